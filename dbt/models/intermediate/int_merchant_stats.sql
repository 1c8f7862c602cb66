{#- Per-merchant volume, alert rate and confirmed fraud over all silver history. -#}
with tx as (
    select
        merchant_id,
        count(*) as txn_count,
        sum(amount) as total_amount,
        count(distinct customer_id) as distinct_customers,
        min(event_time) as first_txn_at,
        max(event_time) as last_txn_at
    from {{ ref('stg_transactions') }}
    group by merchant_id
),

alerts as (
    select merchant_id, count(*) as alert_count
    from {{ ref('stg_fraud_alerts') }}
    group by merchant_id
),

labels as (
    select merchant_id, count(*) filter (where is_fraud) as confirmed_fraud_count
    from {{ ref('stg_feedback') }}
    group by merchant_id
)

select
    tx.merchant_id,
    tx.txn_count,
    tx.total_amount,
    tx.distinct_customers,
    tx.first_txn_at,
    tx.last_txn_at,
    coalesce(a.alert_count, 0) as alert_count,
    coalesce(l.confirmed_fraud_count, 0) as confirmed_fraud_count,
    round(coalesce(a.alert_count, 0)::numeric / nullif(tx.txn_count, 0), 5) as alert_rate,
    round(coalesce(l.confirmed_fraud_count, 0)::numeric / nullif(tx.txn_count, 0), 5) as fraud_rate
from tx
left join alerts as a on a.merchant_id = tx.merchant_id
left join labels as l on l.merchant_id = tx.merchant_id
