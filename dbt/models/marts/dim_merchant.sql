{#- Merchant dimension with its behaviour stats. -#}
select
    m.merchant_id,
    m.name,
    m.category,
    m.risk_tier,
    coalesce(st.txn_count, 0) as txn_count,
    coalesce(st.total_amount, 0) as total_amount,
    coalesce(st.alert_count, 0) as alert_count,
    coalesce(st.confirmed_fraud_count, 0) as confirmed_fraud_count,
    coalesce(st.alert_rate, 0) as alert_rate,
    coalesce(st.fraud_rate, 0) as fraud_rate,
    st.last_txn_at
from {{ source('ref', 'merchants') }} as m
left join {{ ref('int_merchant_stats') }} as st on st.merchant_id = m.merchant_id
