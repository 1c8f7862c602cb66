{#- Per-customer behaviour over all silver history: volume, spend, alerts and confirmed fraud. -#}
with tx as (
    select
        customer_id,
        count(*) as txn_count,
        sum(amount) as total_amount,
        avg(amount)::numeric(14, 2) as avg_amount,
        max(amount) as max_amount,
        count(distinct store_id) as distinct_stores,
        min(event_time) as first_txn_at,
        max(event_time) as last_txn_at
    from {{ ref('stg_transactions') }}
    group by customer_id
),

alerts as (
    select customer_id, count(*) as alert_count
    from {{ ref('stg_fraud_alerts') }}
    group by customer_id
),

labels as (
    select
        customer_id,
        count(*) filter (where is_fraud) as confirmed_fraud_count,
        count(*) filter (where not is_fraud) as confirmed_legit_count
    from {{ ref('stg_feedback') }}
    group by customer_id
)

select
    tx.customer_id,
    tx.txn_count,
    tx.total_amount,
    tx.avg_amount,
    tx.max_amount,
    tx.distinct_stores,
    tx.first_txn_at,
    tx.last_txn_at,
    coalesce(a.alert_count, 0) as alert_count,
    coalesce(l.confirmed_fraud_count, 0) as confirmed_fraud_count,
    coalesce(l.confirmed_legit_count, 0) as confirmed_legit_count
from tx
left join alerts as a on a.customer_id = tx.customer_id
left join labels as l on l.customer_id = tx.customer_id
