-- The alert API's projection of scored transactions (ADR 0101): one row per transaction_id, the
-- latest scoring wins as in silver (higher rules_version, then later scored_at; a tie keeps the
-- first landing). A statement trigger on bronze.scored_transactions projects every landed batch in
-- the ingestor's own transaction (0 s behind bronze); the API reads only this table for
-- per-transaction data (the customer timeline, risk statistics, an alert's transaction).
-- Bounded by the API's retention setting: app.prune_scored_transactions() deletes older rows.

create table app.scored_transactions (
    transaction_id      text        primary key,
    customer_id         text        not null,
    card_id             text,
    merchant_id         text        not null,
    store_id            text,
    amount              numeric,
    currency            text,
    payment_method      text,
    channel             text,
    latitude            double precision,
    longitude           double precision,
    event_time          timestamptz not null,
    fraud_score         double precision not null,
    is_alert            boolean     not null,
    rule_ids            text[]      not null default '{}',
    rules_version       integer     not null,
    model_version       text,
    scored_at           timestamptz not null,
    landed_at           timestamptz not null,   -- bronze ingested_at of the winning scoring
    projected_at        timestamptz not null default now()
);
-- The timeline (newest first per customer, keyset on (event_time, transaction_id)).
create index scored_transactions_customer_idx
    on app.scored_transactions (customer_id, event_time desc, transaction_id desc);
-- Retention deletes by event time.
create index scored_transactions_event_time_idx on app.scored_transactions (event_time);

-- One statement per landed batch (COPY or insert ... select): the transition table holds only the
-- rows bronze really inserted (a re-delivered Kafka offset is not among them). Within the batch
-- the winning scoring of each id is picked first (ON CONFLICT may touch a row once per command);
-- against the projection, a scoring replaces the stored one only if it beats it. Never raises on
-- a malformed payload (the ingestor validated it against the contract): missing parts are null.
create function app.project_scored_transactions() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    insert into app.scored_transactions as p (
        transaction_id, customer_id, card_id, merchant_id, store_id, amount, currency,
        payment_method, channel, latitude, longitude, event_time, fraud_score, is_alert,
        rule_ids, rules_version, model_version, scored_at, landed_at
    )
    select distinct on (n.transaction_id)
        n.transaction_id, n.customer_id,
        n.payload -> 'transaction' ->> 'card_id',
        n.merchant_id,
        n.payload -> 'transaction' ->> 'store_id',
        case when n.payload -> 'transaction' ->> 'amount' ~ '^-?[0-9]{1,20}(\.[0-9]{1,10})?$'
             then (n.payload -> 'transaction' ->> 'amount')::numeric end,
        n.payload -> 'transaction' ->> 'currency',
        n.payload -> 'transaction' ->> 'payment_method',
        n.payload -> 'transaction' ->> 'channel',
        case when jsonb_typeof(n.payload -> 'transaction' -> 'latitude') = 'number'
             then (n.payload -> 'transaction' ->> 'latitude')::double precision end,
        case when jsonb_typeof(n.payload -> 'transaction' -> 'longitude') = 'number'
             then (n.payload -> 'transaction' ->> 'longitude')::double precision end,
        n.event_time, n.fraud_score::double precision, n.is_alert,
        case when jsonb_typeof(n.payload -> 'rule_contributions') = 'array' then
            array(select r ->> 'rule_id'
                  from jsonb_array_elements(n.payload -> 'rule_contributions') as r
                  where r ->> 'triggered' = 'true' and r ->> 'rule_id' is not null)
        else '{}'::text[] end,
        n.rules_version,
        case when jsonb_typeof(n.payload -> 'model_version') = 'string'
             then n.payload ->> 'model_version' end,
        n.scored_at, n.ingested_at
    from new_rows as n
    order by n.transaction_id, n.rules_version desc, n.scored_at desc,
             n.kafka_topic, n.kafka_partition, n.kafka_offset
    on conflict (transaction_id) do update set
        customer_id = excluded.customer_id,
        card_id = excluded.card_id,
        merchant_id = excluded.merchant_id,
        store_id = excluded.store_id,
        amount = excluded.amount,
        currency = excluded.currency,
        payment_method = excluded.payment_method,
        channel = excluded.channel,
        latitude = excluded.latitude,
        longitude = excluded.longitude,
        event_time = excluded.event_time,
        fraud_score = excluded.fraud_score,
        is_alert = excluded.is_alert,
        rule_ids = excluded.rule_ids,
        rules_version = excluded.rules_version,
        model_version = excluded.model_version,
        scored_at = excluded.scored_at,
        landed_at = excluded.landed_at,
        projected_at = now()
    where (excluded.rules_version, excluded.scored_at) > (p.rules_version, p.scored_at);
    return null;
end
$$;
-- Landing a scored record projects it with the function owner's rights: the ingestor needs no
-- grant on app (ADR 0105), and nobody else may call it.
revoke all on function app.project_scored_transactions() from public;

create trigger scored_transactions_project
    after insert on bronze.scored_transactions
    referencing new table as new_rows
    for each statement execute function app.project_scored_transactions();

-- The retention: delete projected rows whose event time is older than ``keep``, at most
-- ``max_rows`` per call (a short transaction; call again while it returns max_rows). Runs with
-- the caller's rights (the API role may delete in app); one caller at a time per database.
create function app.prune_scored_transactions(keep interval, max_rows integer default 10000)
returns integer
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    deleted integer;
begin
    if not pg_try_advisory_xact_lock(5410036) then
        return 0;  -- another API process is pruning
    end if;
    delete from app.scored_transactions
    where transaction_id in (
        select transaction_id from app.scored_transactions
        where event_time < now() - keep
        order by event_time
        limit max_rows
    );
    get diagnostics deleted = row_count;
    return deleted;
end
$$;

-- Scored records landed before this migration (the latest scoring of each id, last 90 days: the
-- default retention; the API's prune applies its own setting after that).
insert into app.scored_transactions (
    transaction_id, customer_id, card_id, merchant_id, store_id, amount, currency,
    payment_method, channel, latitude, longitude, event_time, fraud_score, is_alert,
    rule_ids, rules_version, model_version, scored_at, landed_at
)
select distinct on (b.transaction_id)
    b.transaction_id, b.customer_id,
    b.payload -> 'transaction' ->> 'card_id',
    b.merchant_id,
    b.payload -> 'transaction' ->> 'store_id',
    case when b.payload -> 'transaction' ->> 'amount' ~ '^-?[0-9]{1,20}(\.[0-9]{1,10})?$'
         then (b.payload -> 'transaction' ->> 'amount')::numeric end,
    b.payload -> 'transaction' ->> 'currency',
    b.payload -> 'transaction' ->> 'payment_method',
    b.payload -> 'transaction' ->> 'channel',
    case when jsonb_typeof(b.payload -> 'transaction' -> 'latitude') = 'number'
         then (b.payload -> 'transaction' ->> 'latitude')::double precision end,
    case when jsonb_typeof(b.payload -> 'transaction' -> 'longitude') = 'number'
         then (b.payload -> 'transaction' ->> 'longitude')::double precision end,
    b.event_time, b.fraud_score::double precision, b.is_alert,
    case when jsonb_typeof(b.payload -> 'rule_contributions') = 'array' then
        array(select r ->> 'rule_id'
              from jsonb_array_elements(b.payload -> 'rule_contributions') as r
              where r ->> 'triggered' = 'true' and r ->> 'rule_id' is not null)
    else '{}'::text[] end,
    b.rules_version,
    case when jsonb_typeof(b.payload -> 'model_version') = 'string'
         then b.payload ->> 'model_version' end,
    b.scored_at, b.ingested_at
from bronze.scored_transactions as b
where b.event_time >= now() - interval '90 days'
order by b.transaction_id, b.rules_version desc, b.scored_at desc, b.ingested_at,
         b.kafka_topic, b.kafka_partition, b.kafka_offset;

-- On a database the service roles already exist in (V040 ran before this file), the API role
-- gets the new table by V040's default privileges; on a fresh one, V040 grants it afterwards.
