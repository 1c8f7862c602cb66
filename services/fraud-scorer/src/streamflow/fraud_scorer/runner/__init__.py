"""Run the fraud-scoring PyFlink job locally: a MiniCluster in the PyFlink environment.

``streamflow-scorer run`` starts ``python -m streamflow.fraud_scorer.fraud_job`` (the entrypoint the
Kubernetes FlinkDeployment runs too) with the PyFlink environment's interpreter, resuming from
the newest retained checkpoint.
"""
