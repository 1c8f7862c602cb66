{#- The shadow model against the current one on live traffic, per event day and pair of versions:
    every transaction scored while a shadow model ran carries both probabilities (scored v2), so
    before promoting a candidate an analyst sees how many payments each would flag at the alert
    threshold, how many of those turned out fraud, and the recall of each against the fraud
    confirmed so far. Unlabelled payments count as not (yet) fraud. -#}
with scored as (
    select
        s.transaction_id,
        s.event_time::date as event_date,
        coalesce(s.model_version, 'none') as current_version,
        s.shadow_model_version,
        coalesce(s.model_score, 0) >= {{ var('alert_threshold', 0.5) }} as current_flag,
        s.shadow_score >= {{ var('alert_threshold', 0.5) }} as shadow_flag,
        coalesce(fb.is_fraud, false) as is_fraud
    from {{ ref('stg_scored_transactions') }} as s
    left join {{ ref('stg_feedback') }} as fb on fb.transaction_id = s.transaction_id
    where s.shadow_model_version is not null and s.shadow_score is not null
),

per_day as (
    select
        event_date,
        current_version,
        shadow_model_version,
        count(*) as scored,
        count(*) filter (where is_fraud) as confirmed_fraud,
        count(*) filter (where current_flag) as current_flags,
        count(*) filter (where shadow_flag) as shadow_flags,
        count(*) filter (where current_flag and shadow_flag) as both_flags,
        count(*) filter (where current_flag and is_fraud) as current_flagged_fraud,
        count(*) filter (where shadow_flag and is_fraud) as shadow_flagged_fraud
    from scored
    group by event_date, current_version, shadow_model_version
)

select
    *,
    round(current_flagged_fraud::numeric / nullif(current_flags, 0), 4)::double precision
        as current_precision,
    round(shadow_flagged_fraud::numeric / nullif(shadow_flags, 0), 4)::double precision
        as shadow_precision,
    round(current_flagged_fraud::numeric / nullif(confirmed_fraud, 0), 4)::double precision
        as current_recall,
    round(shadow_flagged_fraud::numeric / nullif(confirmed_fraud, 0), 4)::double precision
        as shadow_recall
from per_day
