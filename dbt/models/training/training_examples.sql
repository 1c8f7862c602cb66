{#- Training examples for the supervised model: every accepted (silver) transaction with its label
    as known at a cut-off (var `training_cutoff`, ISO-8601 with a zone; default: now).
    - Labels: every bronze feedback report with reported_at <= cut-off (the label's event time, as
      the scorer and the backtest count it). A label is a fact per (transaction, source) (ADR 0057):
      its latest report at the cut-off wins (a changed verdict replaces, a repeat does not add).
      Bronze, not stg_feedback: stg_feedback keeps only each transaction's latest report, which may
      be after the cut-off and would hide the one known at it.
    - label = 1 when the latest known report of any source says fraud (a chargeback stays fraud
      whatever an analyst said), else 0: old enough unlabelled transactions are legit, as issuers
      count them.
    - Only transactions at least `label_maturity_days` (default 7) older than the cut-off: younger
      ones may still get a label.
    The cut-off and the maturity are stored on every row, so the tests check the rows against the
    cut-off they were built with whatever vars the test run has (docs/adr/0056). -#}
{{ config(tags=['training']) }}

with params as (
    select
        {{ training_cutoff() }} as training_cutoff,
        {{ var('label_maturity_days') | int }} as label_maturity_days
),

reports as (
    select f.transaction_id, f.source, f.label, f.reported_at,
        f.ingested_at, f.kafka_topic, f.kafka_partition, f.kafka_offset
    from {{ source('bronze', 'feedback') }} as f
    cross join params as p
    where f.reported_at <= p.training_cutoff
),

-- the latest report of each (transaction, source) known at the cut-off: no later one exists
facts as (
    select r.transaction_id, r.source, r.label, r.reported_at
    from reports as r
    where not exists (
        select 1 from reports as e
        where e.transaction_id = r.transaction_id
            and e.source = r.source
            and (e.reported_at, e.ingested_at, e.kafka_topic, e.kafka_partition, e.kafka_offset)
                > (r.reported_at, r.ingested_at, r.kafka_topic, r.kafka_partition, r.kafka_offset)
    )
),

labels as (
    select
        transaction_id,
        bool_or(label = 'fraud') as is_fraud,
        max(reported_at) as label_reported_at,
        string_agg(source || ':' || label, ',' order by source) as label_facts
    from facts
    group by transaction_id
)

select
    t.transaction_id,
    t.event_time,
    t.customer_id,
    t.card_id,
    t.merchant_id,
    t.store_id,
    t.amount,
    t.currency,
    t.channel,
    t.latitude,
    t.longitude,
    t.device_id,
    case when l.is_fraud then 1 else 0 end as label,
    l.label_facts,
    l.label_reported_at,
    p.training_cutoff,
    p.label_maturity_days
from {{ ref('stg_transactions') }} as t
cross join params as p
left join labels as l on l.transaction_id = t.transaction_id
where t.event_time <= p.training_cutoff - make_interval(days => p.label_maturity_days)
