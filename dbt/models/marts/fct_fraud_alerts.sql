{#- One row per alert, with the transaction's outcome once feedback has arrived. -#}
select
    a.alert_id,
    a.transaction_id,
    a.customer_id,
    a.merchant_id,
    a.amount,
    a.score,
    a.severity,
    a.rules_version,
    a.model_version,
    jsonb_array_length(a.triggered_rules) as triggered_rule_count,
    a.event_time,
    a.event_time::date as event_date,
    a.detected_at,
    a.time_to_detect_ms,
    fb.label,
    case
        when fb.label = 'fraud' then 'confirmed_fraud'
        when fb.label = 'legit' then 'false_positive'
        else 'pending'
    end as outcome,
    fb.reported_at as label_reported_at
from {{ ref('stg_fraud_alerts') }} as a
left join {{ ref('stg_feedback') }} as fb on fb.transaction_id = a.transaction_id
