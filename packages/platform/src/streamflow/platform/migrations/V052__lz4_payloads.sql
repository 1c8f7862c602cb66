-- lz4 instead of pglz for the large values a landed row carries (docs/adr/0122). A scored record's
-- jsonb (~1.9 KB of text, ~2.3 KB as jsonb) pushes its bronze row over the ~2 KB TOAST threshold,
-- so PostgreSQL tries to compress it on every insert; pglz spent ~14 us of server CPU per row on
-- that try, lz4 ~1 (COPY of 60,000 scored rows through the ingestor's write path, projection
-- trigger included: 70.7 -> 57.3 us/row). Only values written from now on are affected; nothing is
-- rewritten, and either kind reads back the same.
alter table bronze.transactions alter column payload set compression lz4;
alter table bronze.scored_transactions alter column payload set compression lz4;
alter table bronze.fraud_alerts alter column payload set compression lz4;
alter table bronze.feedback alter column payload set compression lz4;
alter table bronze.realtime_metrics alter column payload set compression lz4;
alter table bronze.dlq_events alter column payload set compression lz4;
alter table bronze.dead_letters alter column raw_value set compression lz4;
alter table app.alerts alter column payload set compression lz4;
