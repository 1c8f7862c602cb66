{#- Route models to the medallion schemas by their folder config: staging/intermediate -> silver,
    marts -> gold. A custom schema is used as-is (not prefixed with the target schema), so every
    environment writes the same schema names and the API/analysts can rely on them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
