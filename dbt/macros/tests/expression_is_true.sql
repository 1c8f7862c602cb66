{#- Generic test: a boolean SQL expression holds for every row (optionally where `condition`). -#}
{% test expression_is_true(model, expression, column_name=none, condition='true') %}
select *
from {{ model }}
where ({{ condition }}) and not ({{ expression }})
{% endtest %}
