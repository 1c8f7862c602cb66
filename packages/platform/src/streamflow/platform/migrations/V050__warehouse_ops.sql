-- Warehouse operations (Airflow): alert events published by failing quality checks and the daily
-- dead-letter summary written by the maintenance DAG. Each alert is also sent with
-- pg_notify('warehouse_alerts', <json>) so a listener (the alert API, a pager bridge) can react.
create schema if not exists ops;

create table ops.warehouse_alerts (
    alert_id     bigint generated always as identity primary key,
    source       text        not null,             -- dag_id.task_id
    run_id       text,
    severity     text        not null default 'error',
    message      text        not null,
    details      jsonb       not null default '{}'::jsonb,
    created_at   timestamptz not null default now()
);
create index on ops.warehouse_alerts (created_at);

create table ops.dead_letter_summary (
    summary_date date        not null,
    stage        text        not null,
    error_type   text        not null,
    dead_letters bigint      not null,
    computed_at  timestamptz not null default now(),
    primary key (summary_date, stage, error_type)
);
