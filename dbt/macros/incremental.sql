{#- Helpers shared by the incremental models. -#}

{#- The bronze ingestion time from which an incremental run re-reads: the target's high-water mark
    minus the lookback window (idempotent: already loaded rows are skipped or rewritten unchanged). -#}
{% macro ingested_since(column='_ingested_at', relation=none) -%}
    {%- set rel = relation if relation is not none else this -%}
    coalesce((select max({{ column }}) from {{ rel }}), '-infinity'::timestamptz)
        - interval '{{ var("incremental_lookback") }}'
{%- endmacro %}

{#- The reason a bronze transaction fails validation, or null when it is valid. Shared by
    stg_transactions (keeps valid rows) and stg_transactions_rejects (keeps the others). -#}
{% macro transaction_reject_reason(alias='b') -%}
    case
        when {{ alias }}.schema_version <> 1 then 'unsupported_schema_version'
        when {{ alias }}.amount <= 0 then 'amount_not_positive'
        when {{ alias }}.amount > {{ var('max_amount') }} then 'amount_too_large'
        when {{ alias }}.currency !~ '^[A-Z]{3}$' then 'bad_currency'
        when {{ alias }}.event_time > {{ alias }}.ingested_at + interval '{{ var("max_clock_skew") }}'
            then 'event_time_in_future'
        when {{ alias }}.event_time < timestamptz '2000-01-01 00:00:00+00' then 'event_time_too_old'
        when btrim({{ alias }}.transaction_id) = '' or btrim({{ alias }}.customer_id) = ''
            or btrim({{ alias }}.card_id) = '' or btrim({{ alias }}.merchant_id) = ''
            or btrim({{ alias }}.store_id) = '' then 'missing_identifier'
        when {{ alias }}.payload ->> 'transaction_id' is distinct from {{ alias }}.transaction_id
            then 'payload_mismatch'
        when coalesce({{ alias }}.payload ->> 'channel', '') = ''
            or coalesce({{ alias }}.payload ->> 'payment_method', '') = '' then 'missing_payload_field'
    end
{%- endmacro %}

{#- Make a model's unique key an index (speeds the delete+insert merge and enforces the key). -#}
{% macro unique_index(columns) -%}
    create unique index if not exists {{ this.identifier }}__{{ columns | join('_') }}__uidx
        on {{ this }} ({{ columns | join(', ') }})
{%- endmacro %}

{#- Whether scoring `a` of a transaction beats scoring `b` of the same id (stg_scored_transactions):
    highest rules version, then the latest scored_at, then the first landing. -#}
{% macro scored_beats(a, b) -%}
    {{ a }}.transaction_id = {{ b }}.transaction_id
    and (
        {{ a }}.rules_version > {{ b }}.rules_version
        or ({{ a }}.rules_version = {{ b }}.rules_version and {{ a }}.scored_at > {{ b }}.scored_at)
        or ({{ a }}.rules_version = {{ b }}.rules_version and {{ a }}.scored_at = {{ b }}.scored_at
            and ({{ a }}._ingested_at, {{ a }}.kafka_topic, {{ a }}.kafka_partition, {{ a }}.kafka_offset)
                < ({{ b }}._ingested_at, {{ b }}.kafka_topic, {{ b }}.kafka_partition, {{ b }}.kafka_offset))
    )
{%- endmacro %}
