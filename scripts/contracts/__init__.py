"""One shape per record: read the pydantic contracts, and the places that mirror them.

``shapes`` describes a contract field (kind, nullability, lengths, decimal precision, enum);
``bronze_ddl`` reads the bronze tables out of the migrations; ``dbt_yml`` generates the dbt yml
parts that repeat the contracts (accepted enum values, bronze source columns) and checks them.
The drift tests in ``tests/contracts/`` use all three.
"""
