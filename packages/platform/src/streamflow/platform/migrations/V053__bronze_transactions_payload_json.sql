-- bronze.transactions keeps each record's value as `json`, its text exactly as received, instead of
-- `jsonb` (docs/adr/0125). The ingestor has already parsed and validated every value against the
-- contract before it lands, so the server's jsonb build (~3.3 us of PostgreSQL CPU per row, a
-- third of what a landed transaction costs the server) was done for dbt's reads alone; `json`
-- still refuses text that is not JSON (~0.6 us per row). dbt parses each landed row once
-- (json_to_record in stg_transactions and stg_transactions_rejects) instead of looking fields up
-- in jsonb. The other bronze tables keep jsonb: their projections and models read many paths.
-- Existing rows are rewritten once (jsonb's text form: its key order and spacing).
alter table bronze.transactions alter column payload type json using payload::json;
alter table bronze.transactions alter column payload set compression lz4;  -- V052's, kept as is
