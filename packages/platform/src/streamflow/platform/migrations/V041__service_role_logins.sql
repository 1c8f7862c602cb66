-- The service roles of V040 may log in (ADR 0105), still without a password: a password login
-- needs the one the deployment sets (scripts/infra/postgres.sh locally, CloudNativePG managed
-- roles in Kubernetes), while a throwaway stack that trusts its network (docker-compose.test.yml)
-- lets them in as they are. Cluster-wide and idempotent, like V040.
alter role streamflow_ingestor login;
alter role streamflow_api login;
alter role streamflow_generator login;
alter role streamflow_warehouse login;
