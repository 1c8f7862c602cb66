{#- Generic test: the newest value of a timestamp column is no older than `max_age`
    (a PostgreSQL interval literal such as '1 day'); an empty table fails too. -#}
{% test recency(model, column_name, max_age) %}
select max({{ column_name }}) as newest
from {{ model }}
having max({{ column_name }}) is null
    or max({{ column_name }}) < now() - interval '{{ max_age }}'
{% endtest %}
