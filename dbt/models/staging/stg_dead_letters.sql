{#- Silver dead letters: records any stage rejected (streamflow.dlq, landed as bronze.dlq_events)
    and records the ingestor itself could not land (bronze.dead_letters), in one shape. -#}
select
    'dlq:' || d.kafka_topic || ':' || d.kafka_partition || ':' || d.kafka_offset as dead_letter_id,
    d.stage,
    d.source_topic,
    d.source_partition,
    d.source_offset,
    d.error_type,
    d.payload ->> 'error_message' as error_message,
    d.failed_at,
    null::timestamptz as reprocessed_at,
    d.ingested_at as _ingested_at
from {{ source('bronze', 'dlq_events') }} as d

union all

select
    'ingestor:' || l.kafka_topic || ':' || l.kafka_partition || ':' || l.kafka_offset,
    'ingestor',
    l.kafka_topic,
    l.kafka_partition,
    l.kafka_offset,
    l.error_type,
    l.error_message,
    l.failed_at,
    l.reprocessed_at,
    l.failed_at
from {{ source('bronze', 'dead_letters') }} as l
