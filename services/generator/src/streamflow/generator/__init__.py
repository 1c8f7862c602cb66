"""StreamFlow generator: a labelled, reproducible stream of Brazilian card transactions.

Reference data (customers, cards, merchants, stores, products) is built from ``--seed``; legit
behaviour and fraud scenarios are simulated in vectorised day-sized chunks; events go to Kafka or
to Parquet/JSONL files with identical bytes, and labels travel separately (labels file, delayed
``fraud.feedback`` chargebacks).
"""
