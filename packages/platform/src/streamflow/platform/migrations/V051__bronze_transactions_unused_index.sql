-- bronze.transactions(event_time) serves no query: the API reads no bronze (V043), and EXPLAIN of
-- dbt's readers (stg_transactions, stg_transactions_rejects, assert_bronze_transactions_accounted)
-- uses the primary key, (ingested_at) and (transaction_id) only. Each landed row paid for it
-- (~0.5 us of PostgreSQL CPU per row in the ingestor ladder, docs/adr/0121).
drop index if exists bronze.transactions_event_time_idx;
