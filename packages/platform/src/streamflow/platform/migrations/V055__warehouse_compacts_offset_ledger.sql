-- The warehouse's retention also merges settled ranges of the ingestor's offset ledger
-- (streamflow.orchestration.maintenance.compact_ledger, docs/adr/0134): it deletes them and
-- inserts their union in one statement. V040's default privileges gave it select and delete.
grant insert on bronze.transactions_offsets to streamflow_warehouse;
