-- Bronze: one table per topic, written by the ingestor. Every row keeps the raw payload (jsonb),
-- the typed columns needed for joins and indexes, and its Kafka coordinates, which are the
-- idempotency key: replaying a range re-inserts nothing (insert ... on conflict do nothing).

create table bronze.transactions (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    transaction_id   text        not null,
    customer_id      text        not null,
    card_id          text        not null,
    merchant_id      text        not null,
    store_id         text        not null,
    amount           numeric(14, 2) not null,
    currency         char(3)     not null,
    event_time       timestamptz not null,
    schema_version   smallint    not null,
    payload          jsonb       not null,
    ingested_at      timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.transactions (transaction_id);
create index on bronze.transactions (event_time);
create index on bronze.transactions (ingested_at);

create table bronze.scored_transactions (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    transaction_id   text        not null,
    customer_id      text        not null,
    merchant_id      text        not null,
    fraud_score      numeric(6, 5) not null,
    is_alert         boolean     not null,
    rules_version    integer     not null,
    event_time       timestamptz not null,
    scored_at        timestamptz not null,
    schema_version   smallint    not null,
    payload          jsonb       not null,
    ingested_at      timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.scored_transactions (transaction_id);
create index on bronze.scored_transactions (ingested_at);

create table bronze.fraud_alerts (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    alert_id         uuid        not null,
    transaction_id   text        not null,
    customer_id      text        not null,
    merchant_id      text        not null,
    score            numeric(6, 5) not null,
    severity         text        not null,
    rules_version    integer     not null,
    event_time       timestamptz not null,
    detected_at      timestamptz not null,
    schema_version   smallint    not null,
    payload          jsonb       not null,
    ingested_at      timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.fraud_alerts (alert_id);
create index on bronze.fraud_alerts (customer_id, detected_at);
create index on bronze.fraud_alerts (ingested_at);

create table bronze.feedback (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    transaction_id   text        not null,
    customer_id      text        not null,
    merchant_id      text        not null,
    label            text        not null,
    source           text        not null,
    reported_at      timestamptz not null,
    schema_version   smallint    not null,
    payload          jsonb       not null,
    ingested_at      timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.feedback (transaction_id);

create table bronze.realtime_metrics (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    store_id         text        not null,
    window_start     timestamptz not null,
    window_end       timestamptz not null,
    window_seconds   integer     not null,
    txn_count        integer     not null,
    amount_sum       numeric(16, 2) not null,
    fraud_count      integer     not null,
    schema_version   smallint    not null,
    payload          jsonb       not null,
    ingested_at      timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.realtime_metrics (window_seconds, window_start);

-- Records other stages rejected (the streamflow.dlq topic), as landed by the ingestor.
create table bronze.dlq_events (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    stage            text        not null,
    source_topic     text        not null,
    source_partition integer,
    source_offset    bigint,
    error_type       text        not null,
    failed_at        timestamptz not null,
    schema_version   smallint    not null,
    payload          jsonb       not null,
    ingested_at      timestamptz not null default now(),
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.dlq_events (source_topic, source_partition, source_offset);

-- Records the ingestor itself could not land (bad JSON, contract violations, oversized...).
-- The raw bytes are kept as they arrived; the offset still advances.
create table bronze.dead_letters (
    kafka_topic      text        not null,
    kafka_partition  integer     not null,
    kafka_offset     bigint      not null,
    kafka_timestamp  timestamptz,
    record_key       bytea,
    raw_value        bytea,
    error_type       text        not null,
    error_message    text        not null,
    failed_at        timestamptz not null default now(),
    reprocessed_at   timestamptz,
    primary key (kafka_topic, kafka_partition, kafka_offset)
);
create index on bronze.dead_letters (failed_at);
