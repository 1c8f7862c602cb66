-- The quality dashboard (issue 21 item 5, ADR 0102) reads the warehouse's detection-quality mart,
-- gold.agg_detection_quality, and nothing else of gold. The API role has no grant on gold (ADR
-- 0105), and a table grant would not last: dbt's table materialization builds a new table and
-- drops the old one on every run, and on a fresh database the table does not exist yet (dbt
-- creates it). So the read is one function that runs with its owner's rights (the migrator, a
-- member of streamflow_warehouse, which owns gold), like app.project_fraud_alert(): the API may
-- execute exactly this read, with a date range and a row bound, and nothing else of gold.
-- plpgsql resolves the table when called: before the first dbt run a call raises 42P01
-- (undefined_table), which the API answers as "mart not built yet".
create or replace function app.detection_quality(p_since date, p_until date, p_max_rows integer)
returns table (
    event_date date,
    rule_id text,
    alerts bigint,
    confirmed_fraud bigint,
    false_positives bigint,
    unlabelled bigint,
    fraud_total bigint,
    "precision" double precision,
    recall double precision,
    avg_time_to_detect_ms double precision,
    p50_time_to_detect_ms double precision
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
    return query
    select q.event_date, q.rule_id::text, q.alerts::bigint, q.confirmed_fraud::bigint,
           q.false_positives::bigint, q.unlabelled::bigint, q.fraud_total::bigint,
           q.precision::double precision, q.recall::double precision,
           q.avg_time_to_detect_ms::double precision, q.p50_time_to_detect_ms::double precision
    from gold.agg_detection_quality as q
    where q.event_date >= p_since and q.event_date <= p_until
    order by q.event_date, q.rule_id
    limit greatest(p_max_rows, 0);
end
$$;

revoke all on function app.detection_quality(date, date, integer) from public;

-- On a fresh database this runs before V040, which creates the service roles; create the API's
-- role the same idempotent way (V040 then finds it), so the grant below always has its grantee.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'streamflow_api') then
        begin
            create role streamflow_api nologin;
        exception when duplicate_object or unique_violation then
            null;  -- created meanwhile by a migrator of another database
        end;
    end if;
end
$$;
grant execute on function app.detection_quality(date, date, integer) to streamflow_api;
