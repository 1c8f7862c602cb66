-- The alert API's projection of the real-time window metrics (issue 18 item 5, ADR 0101 and 0105):
-- ``GET /v1/metrics/realtime`` reads this table, never bronze. One row per (window size, store,
-- window start), the latest landing wins (what the endpoint's ``distinct on ... ingested_at desc``
-- over bronze used to pick). A statement trigger on bronze.realtime_metrics projects every landed
-- batch in the ingestor's own transaction, so the projection is 0 s behind bronze.
-- Bounded by the trigger itself: per window size, only the windows ending within 120 windows
-- (the endpoint's largest ``windows``) of the newest are kept, so every request sees what it saw in
-- bronze, and the table holds at most stores x 120 rows per window size.

create table app.realtime_metrics (
    window_seconds  integer        not null,
    store_id        text           not null,
    window_start    timestamptz    not null,
    window_end      timestamptz    not null,
    txn_count       integer        not null,
    amount_sum      numeric(16, 2) not null,
    fraud_count     integer        not null,
    landed_at       timestamptz    not null,   -- bronze ingested_at of the winning record
    primary key (window_seconds, store_id, window_start)
);
-- The endpoint: the newest window of a size, then the windows ending after a bound.
create index realtime_metrics_window_end_idx on app.realtime_metrics (window_seconds, window_end desc);

-- Within a batch the latest record of each window wins (a later Kafka offset of the same
-- partition: ingested_at is the statement's time for the whole batch); against the projection, a
-- record landed at the same time or later replaces the stored one. Keys are upserted in one order,
-- so concurrent ingestor sessions cannot deadlock on them.
create function app.project_realtime_metrics() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    insert into app.realtime_metrics as p (
        window_seconds, store_id, window_start, window_end, txn_count, amount_sum, fraud_count,
        landed_at
    )
    select distinct on (n.window_seconds, n.store_id, n.window_start)
        n.window_seconds, n.store_id, n.window_start, n.window_end, n.txn_count, n.amount_sum,
        n.fraud_count, n.ingested_at
    from new_rows as n
    order by n.window_seconds, n.store_id, n.window_start, n.ingested_at desc,
             n.kafka_topic, n.kafka_partition, n.kafka_offset desc
    on conflict (window_seconds, store_id, window_start) do update set
        window_end = excluded.window_end,
        txn_count = excluded.txn_count,
        amount_sum = excluded.amount_sum,
        fraud_count = excluded.fraud_count,
        landed_at = excluded.landed_at
    where excluded.landed_at >= p.landed_at;

    -- Windows the endpoint can no longer return (more than 120 windows before the newest).
    delete from app.realtime_metrics as p
    using (select distinct n.window_seconds from new_rows as n) as b
    where p.window_seconds = b.window_seconds
      and p.window_end <= (select max(m.window_end) from app.realtime_metrics as m
                           where m.window_seconds = b.window_seconds)
                          - make_interval(secs => b.window_seconds * 120);
    return null;
end
$$;
-- Landing a metrics record projects it with the function owner's rights: the ingestor needs no
-- grant on app (ADR 0105), and nobody else may call it.
revoke all on function app.project_realtime_metrics() from public;

create trigger realtime_metrics_project
    after insert on bronze.realtime_metrics
    referencing new table as new_rows
    for each statement execute function app.project_realtime_metrics();

-- Records landed before this migration: the latest of each window, the last 120 windows per size.
insert into app.realtime_metrics (
    window_seconds, store_id, window_start, window_end, txn_count, amount_sum, fraud_count,
    landed_at
)
select distinct on (b.window_seconds, b.store_id, b.window_start)
    b.window_seconds, b.store_id, b.window_start, b.window_end, b.txn_count, b.amount_sum,
    b.fraud_count, b.ingested_at
from bronze.realtime_metrics as b
join (select window_seconds, max(window_end) as newest
      from bronze.realtime_metrics group by window_seconds) as n
  on n.window_seconds = b.window_seconds
 and b.window_end > n.newest - make_interval(secs => b.window_seconds * 120)
order by b.window_seconds, b.store_id, b.window_start, b.ingested_at desc,
         b.kafka_topic, b.kafka_partition, b.kafka_offset desc;

-- The API only reads it (V040's default privileges gave it every privilege on new app tables);
-- the trigger above is its only writer.
revoke insert, update, delete, truncate on app.realtime_metrics from streamflow_api;
