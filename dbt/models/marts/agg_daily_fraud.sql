{#- Daily fraud overview: volume, alerts, confirmed fraud and the money involved. -#}
select
    event_date,
    count(*) as txn_count,
    sum(amount) as amount_sum,
    count(*) filter (where is_alert) as alert_count,
    count(*) filter (where is_confirmed_fraud) as confirmed_fraud_count,
    coalesce(sum(amount) filter (where is_confirmed_fraud), 0) as confirmed_fraud_amount,
    count(*) filter (where is_alert and is_confirmed_fraud) as caught_fraud_count,
    coalesce(sum(amount) filter (where is_alert and is_confirmed_fraud), 0) as caught_fraud_amount,
    round(count(*) filter (where is_alert)::numeric / count(*), 5) as alert_rate,
    round(count(*) filter (where is_confirmed_fraud)::numeric / count(*), 5) as fraud_rate
from {{ ref('fct_transactions') }}
group by event_date
