-- The alert API never reads bronze (issue 18 item 5, ADR 0105): transactions come from its
-- projection app.scored_transactions (V036), real-time metrics from app.realtime_metrics (V042),
-- alerts from app.alerts (V030). V040 granted it SELECT on bronze.transactions and
-- bronze.realtime_metrics and USAGE on the schema; all of it goes. V040 gave the API no default
-- privileges in bronze; revoking them too keeps a later migration's bronze table out of its reach
-- even if someone adds one by mistake.
revoke all on all tables in schema bronze from streamflow_api;
revoke all on all sequences in schema bronze from streamflow_api;
alter default privileges in schema bronze revoke all on tables from streamflow_api;
alter default privileges in schema bronze revoke all on sequences from streamflow_api;
revoke usage on schema bronze from streamflow_api;
