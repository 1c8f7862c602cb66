-- Covering list indexes for GET /v1/alerts (ADR 0053). A list page reads only the summary
-- columns, but each app.alerts heap row also carries the full payload (~10 rows per 8 KB page),
-- so a 20-row customer page cost ~22 random heap pages and a min-score page ~280. With the
-- summary columns INCLUDEd, every list shape is an index-only scan: the page's rows sit together
-- in a few leaf pages, and filters on non-key columns (score, rule_ids) are checked on the index
-- tuple instead of fetching the heap row first. Same names and keys as V030/V031, so the sort and
-- keyset behaviour is unchanged. Costs: larger indexes (~200 MB each per million alerts) and a
-- wider index write per projected alert.

drop index if exists app.alerts_detected_idx;
create index alerts_detected_idx on app.alerts (detected_at desc, alert_id desc)
    include (transaction_id, customer_id, merchant_id, amount, score, severity, status,
             rule_ids, rules_version, event_time);

drop index if exists app.alerts_score_idx;
create index alerts_score_idx on app.alerts (score desc, alert_id desc)
    include (transaction_id, customer_id, merchant_id, amount, severity, status,
             rule_ids, rules_version, event_time, detected_at);

drop index if exists app.alerts_customer_idx;
create index alerts_customer_idx on app.alerts (customer_id, detected_at desc, alert_id desc)
    include (transaction_id, merchant_id, amount, score, severity, status,
             rule_ids, rules_version, event_time);

drop index if exists app.alerts_merchant_idx;
create index alerts_merchant_idx on app.alerts (merchant_id, detected_at desc, alert_id desc)
    include (transaction_id, customer_id, amount, score, severity, status,
             rule_ids, rules_version, event_time);

drop index if exists app.alerts_status_idx;
create index alerts_status_idx on app.alerts (status, detected_at desc, alert_id desc)
    include (transaction_id, customer_id, merchant_id, amount, score, severity,
             rule_ids, rules_version, event_time);

drop index if exists app.alerts_severity_idx;
create index alerts_severity_idx on app.alerts (severity, detected_at desc, alert_id desc)
    include (transaction_id, customer_id, merchant_id, amount, score, status,
             rule_ids, rules_version, event_time);
