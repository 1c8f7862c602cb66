-- The alert API's deduplicated alert projection (ADR 0050). bronze.fraud_alerts may hold one alert
-- several times (at-least-once delivery); app.alerts holds each alert_id once, with the typed
-- columns the API filters and sorts on and the analyst status (which is not part of the event).
-- A row trigger keeps it in step with bronze: every landed alert row is projected in the same
-- transaction, so the API never sees bronze and the projection disagree.

-- The status lives on the projected alert itself (one row per alert, updated by feedback).
drop table if exists app.alert_status;

create table app.alerts (
    alert_id           uuid primary key,
    transaction_id     text        not null,
    customer_id        text        not null,
    merchant_id        text        not null,
    amount             text,
    score              double precision not null,
    severity           text        not null,
    rules_version      integer     not null,
    rule_ids           text[]      not null default '{}',
    event_time         timestamptz not null,
    detected_at        timestamptz not null,
    payload            jsonb       not null,
    status             text        not null default 'new'
        check (status in ('new', 'confirmed_fraud', 'false_positive')),
    status_updated_at  timestamptz,
    status_updated_by  text,
    first_seen_at      timestamptz not null default now()
);
create index alerts_detected_idx on app.alerts (detected_at desc, alert_id desc);
create index alerts_score_idx on app.alerts (score desc, alert_id desc);
create index alerts_customer_idx on app.alerts (customer_id, detected_at desc, alert_id desc);
create index alerts_merchant_idx on app.alerts (merchant_id, detected_at desc, alert_id desc);
create index alerts_status_idx on app.alerts (status, detected_at desc, alert_id desc);
create index alerts_rule_ids_idx on app.alerts using gin (rule_ids);

-- Never raises on a malformed payload (that would make the ingestor's insert fail): missing
-- parts become null/empty.
create function app.project_fraud_alert() returns trigger
language plpgsql as $$
begin
    insert into app.alerts (
        alert_id, transaction_id, customer_id, merchant_id, amount, score, severity,
        rules_version, rule_ids, event_time, detected_at, payload
    ) values (
        new.alert_id, new.transaction_id, new.customer_id, new.merchant_id,
        new.payload ->> 'amount', new.score::double precision, new.severity,
        new.rules_version,
        case when jsonb_typeof(new.payload -> 'triggered_rules') = 'array' then
            array(select r ->> 'rule_id'
                  from jsonb_array_elements(new.payload -> 'triggered_rules') as r
                  where r ->> 'rule_id' is not null)
        else '{}'::text[] end,
        new.event_time, new.detected_at, new.payload
    )
    on conflict (alert_id) do nothing;
    return null;
end
$$;

create trigger fraud_alerts_project
    after insert on bronze.fraud_alerts
    for each row execute function app.project_fraud_alert();

-- Alerts landed before this migration.
insert into app.alerts (
    alert_id, transaction_id, customer_id, merchant_id, amount, score, severity, rules_version,
    rule_ids, event_time, detected_at, payload
)
select distinct on (alert_id)
    alert_id, transaction_id, customer_id, merchant_id, payload ->> 'amount',
    score::double precision, severity, rules_version,
    case when jsonb_typeof(payload -> 'triggered_rules') = 'array' then
        array(select r ->> 'rule_id' from jsonb_array_elements(payload -> 'triggered_rules') as r
              where r ->> 'rule_id' is not null)
    else '{}'::text[] end,
    event_time, detected_at, payload
from bronze.fraud_alerts
order by alert_id, ingested_at
on conflict (alert_id) do nothing;

-- Lookups the API makes against the other inputs.
create index if not exists analyst_notes_alert_created_idx on app.analyst_notes (alert_id, created_at);
create index if not exists realtime_metrics_window_idx
    on bronze.realtime_metrics (window_seconds, window_end desc);
