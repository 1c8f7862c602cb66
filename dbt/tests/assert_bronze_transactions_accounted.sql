-- Nothing is dropped silently: every landed transaction up to silver's high-water mark is either
-- in stg_transactions or in stg_transactions_rejects (with a reason), never both.
with landed as (
    select b.kafka_topic, b.kafka_partition, b.kafka_offset
    from {{ source('bronze', 'transactions') }} as b
    where b.ingested_at <= (select max(_ingested_at) from {{ ref('stg_transactions') }})
),
kept as (
    select kafka_topic, kafka_partition, kafka_offset, 'silver' as place
    from {{ ref('stg_transactions') }}
    union all
    select kafka_topic, kafka_partition, kafka_offset, 'rejects'
    from {{ ref('stg_transactions_rejects') }}
)
select l.*, count(k.place) as places
from landed as l
left join kept as k using (kafka_topic, kafka_partition, kafka_offset)
group by l.kafka_topic, l.kafka_partition, l.kafka_offset
having count(k.place) <> 1
