{#- Silver scores: one row per transaction, the latest scoring (highest rules version, then the
    latest scored_at) wins, so a re-score after a rules change replaces the old one. -#}
{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['transaction_id'], 'unique': True},
            {'columns': ['_ingested_at']},
        ],
        post_hook=["analyze {{ this }}"],
    )
}}

-- the bronze batch, typed and narrow (the ~2 KB jsonb payload, every rule's contribution, never
-- travels); read twice below and inlined both times
with batch as not materialized (
    select
        b.transaction_id,
        b.customer_id,
        b.merchant_id,
        b.fraud_score::double precision as fraud_score,
        b.is_alert,
        b.rules_version,
        (b.payload ->> 'ml_score')::double precision as ml_score,
        b.payload ->> 'model_version' as model_version,
        -- what the supervised models saw and said (scored v2; null on v1 records and without one)
        (b.payload ->> 'model_score')::double precision as model_score,
        b.payload ->> 'shadow_model_version' as shadow_model_version,
        (b.payload ->> 'shadow_score')::double precision as shadow_score,
        b.payload ->> 'feature_set' as feature_set,
        b.payload -> 'features' as features,
        b.event_time,
        b.scored_at,
        b.payload -> 'reasons' as reasons,
        b.kafka_topic,
        b.kafka_partition,
        b.kafka_offset,
        b.ingested_at as _ingested_at
    from {{ source('bronze', 'scored_transactions') }} as b
    where b.fraud_score between 0 and 1
    {% if is_incremental() %}
        and b.ingested_at > {{ ingested_since() }}
    {% endif %}
)

select
    l.transaction_id, l.customer_id, l.merchant_id, l.fraud_score, l.is_alert, l.rules_version,
    l.ml_score, l.model_version, l.model_score, l.shadow_model_version, l.shadow_score,
    l.feature_set, l.features, l.event_time, l.scored_at,
    greatest(extract(epoch from l.scored_at - l.event_time) * 1000, 0)::bigint as scoring_lag_ms,
    l.reasons, l.kafka_topic, l.kafka_partition, l.kafka_offset, l._ingested_at
from batch as l
-- the winning scoring of an id: nothing in the batch beats it (highest rules version, then latest
-- scored_at, then first landing). Anti-joins hashed on the id instead of row_number() over a
-- sort of the whole batch (docs/adr/0061).
where not exists (
    select 1 from batch as e
    where {{ scored_beats('e', 'l') }}
)
{% if is_incremental() %}
    -- a record re-read in the lookback window that silver already holds is skipped ...
    and not exists (
        select 1 from {{ this }} as t
        where t.transaction_id = l.transaction_id
            and t.kafka_topic = l.kafka_topic
            and t.kafka_partition = l.kafka_partition
            and t.kafka_offset = l.kafka_offset
    )
    -- ... and so is one that loses to the version silver holds (silver's row then stays: only ids
    -- in the batch are replaced by delete+insert)
    and not exists (
        select 1 from {{ this }} as t
        where {{ scored_beats('t', 'l') }}
    )
{% endif %}
