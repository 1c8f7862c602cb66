{#- The training examples' cut-off as a SQL timestamptz: var `training_cutoff` (ISO-8601 with a
    zone, e.g. 2026-12-01T00:00:00+00:00) or, when unset or empty, the statement's now(). -#}
{% macro training_cutoff() -%}
    {%- set cutoff = var('training_cutoff', '') -%}
    {%- if cutoff -%}
        cast({{ "'" ~ (cutoff | string | replace("'", "''")) ~ "'" }} as timestamptz)
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}
