-- Queue counts without counting the alerts (GET /v1/queues, ADR 0100). The console asks for the
-- alerts per status on every list load and every 5 s; at a million alerts counting app.alerts
-- took ~0.5 s (unfiltered) to ~0.8 s (a rule and a severity). app.alert_counts holds the counts
-- per (status, severity, rule id), kept by statement triggers on app.alerts in the writing
-- transaction, so every snapshot's counts equal count(*) of the alerts that snapshot sees,
-- whoever writes app.alerts: the projection from bronze, the verdict path (single, bulk, a
-- closing case), an operator, a test.
--
-- rule_id null: every alert of (status, severity), counted once. rule_id X: the alerts whose
-- rule_ids contain X, counted once each (GET /v1/alerts' rule filter is rule_ids @> array[X]; an
-- alert firing several rules is in each of their rows, and an id listed twice counts once).
--
-- Append-only deltas, not one row per key: a trigger inserts, per statement, one row per key the
-- statement changed (a 10,000-row ingest batch: ~40 rows), and a read sums the rows of its keys.
-- Writers never update a shared row, so an ingest batch and an analyst's verdict never wait for
-- each other's commit and cannot deadlock on the counters (upserting hot rows would serialise
-- every writer on the 'new' rows until commit). app.rollup_alert_counts() folds the deltas into
-- one row per key (the API calls it every few seconds), so a read sums a few hundred rows.

-- Writers wait from here to the commit, so the backfill below counts exactly the alerts the
-- triggers do not see (the lock conflicts with every INSERT/UPDATE/DELETE, not with reads).
lock table app.alerts in share row exclusive mode;

create table app.alert_counts (
    status    text   not null,
    severity  text   not null,
    rule_id   text,
    alerts    bigint not null
);
-- A read selects one rule id (or the null totals) and maybe a severity.
create index alert_counts_key_idx on app.alert_counts (rule_id, severity, status) include (alerts);
-- Rows come and go with every rollup: vacuum after a thousand dead rows rather than 20% of a
-- table that is small after each rollup, so reads never wade through dead versions.
alter table app.alert_counts set (
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000
);

-- One statement's change: +1 per new row version, -1 per old one, per key; keys whose changes
-- cancel out (an update of other columns: first_verdict_at, a note's time) write nothing.
-- UPDATE triggers with transition tables cannot name columns, so every update statement of
-- app.alerts runs this; the aggregate over an unchanged row's old and new version is empty.
create function app.count_alert_changes() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_op = 'INSERT' then
        insert into app.alert_counts (status, severity, rule_id, alerts)
        select d.status, d.severity, d.rule_id, sum(d.n)
        from (
            select a.status, a.severity, null::text as rule_id, 1 as n from new_alerts as a
            union all
            select a.status, a.severity, r.rule_id, 1
            from new_alerts as a
            cross join lateral (
                select distinct x from unnest(a.rule_ids) as x where x is not null
            ) as r (rule_id)
        ) as d
        group by d.status, d.severity, d.rule_id;
    elsif tg_op = 'UPDATE' then
        insert into app.alert_counts (status, severity, rule_id, alerts)
        select d.status, d.severity, d.rule_id, sum(d.n)
        from (
            select a.status, a.severity, null::text as rule_id, 1 as n from new_alerts as a
            union all
            select a.status, a.severity, r.rule_id, 1
            from new_alerts as a
            cross join lateral (
                select distinct x from unnest(a.rule_ids) as x where x is not null
            ) as r (rule_id)
            union all
            select a.status, a.severity, null::text, -1 from old_alerts as a
            union all
            select a.status, a.severity, r.rule_id, -1
            from old_alerts as a
            cross join lateral (
                select distinct x from unnest(a.rule_ids) as x where x is not null
            ) as r (rule_id)
        ) as d
        group by d.status, d.severity, d.rule_id
        having sum(d.n) <> 0;
    else
        insert into app.alert_counts (status, severity, rule_id, alerts)
        select d.status, d.severity, d.rule_id, -sum(d.n)
        from (
            select a.status, a.severity, null::text as rule_id, 1 as n from old_alerts as a
            union all
            select a.status, a.severity, r.rule_id, 1
            from old_alerts as a
            cross join lateral (
                select distinct x from unnest(a.rule_ids) as x where x is not null
            ) as r (rule_id)
        ) as d
        group by d.status, d.severity, d.rule_id;
    end if;
    return null;
end
$$;

-- TRUNCATE has no transition table: it empties the counts in the same transaction.
create function app.count_alerts_truncated() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    delete from app.alert_counts;
    return null;
end
$$;

create trigger alerts_count_insert
    after insert on app.alerts
    referencing new table as new_alerts
    for each statement execute function app.count_alert_changes();
create trigger alerts_count_update
    after update on app.alerts
    referencing old table as old_alerts new table as new_alerts
    for each statement execute function app.count_alert_changes();
create trigger alerts_count_delete
    after delete on app.alerts
    referencing old table as old_alerts
    for each statement execute function app.count_alert_changes();
create trigger alerts_count_truncate
    after truncate on app.alerts
    for each statement execute function app.count_alerts_truncated();

-- Folds the deltas into one row per key (keys summing to zero disappear). Deletes only the rows
-- its snapshot sees and inserts their sums in one statement: a writer's rows committed meanwhile
-- stay as they are, and a reader sees the rows before or after the fold, the same sums. One fold
-- at a time per database (advisory lock; a second caller returns 0 at once). Returns the rows
-- it removed.
create function app.rollup_alert_counts() returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    removed integer;
begin
    if not pg_try_advisory_xact_lock(5410047) then
        return 0;
    end if;
    with gone as (
        delete from app.alert_counts returning status, severity, rule_id, alerts
    ), folded as (
        insert into app.alert_counts (status, severity, rule_id, alerts)
        select status, severity, rule_id, sum(alerts) from gone
        group by status, severity, rule_id
        having sum(alerts) <> 0
        returning 1
    )
    select (select count(*) from gone) - (select count(*) from folded) into removed;
    return removed;
end
$$;

-- The projection of landed alerts (V030) once per landed batch instead of once per row, so an
-- ingest batch is one INSERT into app.alerts and one run of the count trigger (~40 delta rows),
-- not one per alert. Same result as the row trigger: the first landing of an alert id wins
-- (within a batch: the lowest Kafka coordinates, the order the ingestor lands them in), an id
-- already projected is left alone, a malformed payload never raises.
drop trigger fraud_alerts_project on bronze.fraud_alerts;
create or replace function app.project_fraud_alert() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    insert into app.alerts (
        alert_id, transaction_id, customer_id, merchant_id, amount, score, severity,
        rules_version, rule_ids, event_time, detected_at, payload
    )
    select distinct on (n.alert_id)
        n.alert_id, n.transaction_id, n.customer_id, n.merchant_id,
        n.payload ->> 'amount', n.score::double precision, n.severity,
        n.rules_version,
        case when jsonb_typeof(n.payload -> 'triggered_rules') = 'array' then
            array(select r ->> 'rule_id'
                  from jsonb_array_elements(n.payload -> 'triggered_rules') as r
                  where r ->> 'rule_id' is not null)
        else '{}'::text[] end,
        n.event_time, n.detected_at, n.payload
    from new_rows as n
    order by n.alert_id, n.ingested_at, n.kafka_topic, n.kafka_partition, n.kafka_offset
    on conflict (alert_id) do nothing;
    return null;
end
$$;
create trigger fraud_alerts_project
    after insert on bronze.fraud_alerts
    referencing new table as new_rows
    for each statement execute function app.project_fraud_alert();

-- Only the triggers run these, with the owner's rights; the API may fold the counts.
revoke all on function app.project_fraud_alert() from public;
revoke all on function app.count_alert_changes() from public;
revoke all on function app.count_alerts_truncated() from public;
revoke all on function app.rollup_alert_counts() from public;
grant execute on function app.rollup_alert_counts() to streamflow_api;

-- The API reads the counts; only the triggers and the fold (as the owner) write them. V040's
-- default privileges gave the API role every write on the new table, and V040 ran before this
-- file on every database, so this revoke stays.
revoke insert, update, delete, truncate on app.alert_counts from streamflow_api;

-- The alerts already projected (the lock above keeps them as they are until the commit).
insert into app.alert_counts (status, severity, rule_id, alerts)
select status, severity, null, count(*) from app.alerts group by status, severity;
insert into app.alert_counts (status, severity, rule_id, alerts)
select a.status, a.severity, r.rule_id, count(*)
from app.alerts as a
cross join lateral (
    select distinct x from unnest(a.rule_ids) as x where x is not null
) as r (rule_id)
group by a.status, a.severity, r.rule_id;
