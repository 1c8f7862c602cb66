{#- Silver alerts: deduplicated on the deterministic alert_id (replays and restarts re-send the
    same alert), with the rules that fired kept as jsonb for the per-rule quality mart. -#}
with ranked as (
    select
        b.*,
        row_number() over (
            partition by b.alert_id
            order by b.ingested_at, b.kafka_topic, b.kafka_partition, b.kafka_offset
        ) as landing_rank
    from {{ source('bronze', 'fraud_alerts') }} as b
)

select
    alert_id::text as alert_id,
    transaction_id,
    customer_id,
    merchant_id,
    (payload ->> 'amount')::numeric(14, 2) as amount,
    score::double precision as score,
    severity,
    rules_version,
    payload ->> 'model_version' as model_version,
    coalesce(payload -> 'triggered_rules', '[]'::jsonb) as triggered_rules,
    event_time,
    detected_at,
    greatest(extract(epoch from detected_at - event_time) * 1000, 0)::bigint as time_to_detect_ms,
    ingested_at as _ingested_at
from ranked
where landing_rank = 1
