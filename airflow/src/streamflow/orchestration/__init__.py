"""StreamFlow orchestration: configuration and callables shared by the Airflow DAGs.

Installed into the Airflow environment (``airflow/.venv``) so DAG files import it without the
dags folder being on ``sys.path``. Nothing here does work at import time.
"""
