{#- Detection quality per event day and rule (plus rule_id = 'ALL' for the alert as a whole):
    alerts, confirmed fraud, false positives, precision over labelled alerts, recall against all
    fraud confirmed by feedback that day, and time to detect. -#}
with alert_rules as (
    select
        a.alert_id,
        a.transaction_id,
        a.event_time::date as event_date,
        a.time_to_detect_ms,
        r.rule ->> 'rule_id' as rule_id
    from {{ ref('stg_fraud_alerts') }} as a
    cross join lateral jsonb_array_elements(a.triggered_rules) as r (rule)
    union all
    select a.alert_id, a.transaction_id, a.event_time::date, a.time_to_detect_ms, 'ALL'
    from {{ ref('stg_fraud_alerts') }} as a
),

per_rule as (
    select
        ar.event_date,
        ar.rule_id,
        count(distinct ar.alert_id) as alerts,
        count(distinct ar.transaction_id) filter (where fb.label = 'fraud') as confirmed_fraud,
        count(distinct ar.transaction_id) filter (where fb.label = 'legit') as false_positives,
        avg(ar.time_to_detect_ms)::numeric(14, 1) as avg_time_to_detect_ms,
        percentile_cont(0.5) within group (order by ar.time_to_detect_ms) as p50_time_to_detect_ms,
        max(ar.time_to_detect_ms) as max_time_to_detect_ms
    from alert_rules as ar
    left join {{ ref('stg_feedback') }} as fb on fb.transaction_id = ar.transaction_id
    group by ar.event_date, ar.rule_id
),

fraud_by_day as (
    -- every transaction confirmed as fraud, by its event day (the recall denominator)
    select t.event_time::date as event_date, count(*) as fraud_total
    from {{ ref('stg_feedback') }} as fb
    inner join {{ ref('stg_transactions') }} as t on t.transaction_id = fb.transaction_id
    where fb.is_fraud
    group by t.event_time::date
)

select
    p.event_date,
    p.rule_id,
    p.alerts,
    p.confirmed_fraud,
    p.false_positives,
    p.alerts - p.confirmed_fraud - p.false_positives as unlabelled,
    coalesce(d.fraud_total, 0) as fraud_total,
    round(p.confirmed_fraud::numeric / nullif(p.confirmed_fraud + p.false_positives, 0), 4)
        ::double precision as precision,
    round(p.confirmed_fraud::numeric / nullif(d.fraud_total, 0), 4)::double precision as recall,
    p.avg_time_to_detect_ms,
    p.p50_time_to_detect_ms,
    p.max_time_to_detect_ms
from per_rule as p
left join fraud_by_day as d on d.event_date = p.event_date
