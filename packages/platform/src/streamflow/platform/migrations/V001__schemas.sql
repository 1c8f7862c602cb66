-- The medallion schemas plus reference data (ref) and the alert API's own tables (app).
-- Silver and gold belong to dbt; only the schemas are created here.
create schema if not exists bronze;
create schema if not exists silver;
create schema if not exists gold;
create schema if not exists ref;
create schema if not exists app;
