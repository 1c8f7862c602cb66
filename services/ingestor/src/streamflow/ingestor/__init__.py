"""StreamFlow ingestor: every Kafka topic landed in PostgreSQL bronze, idempotently.

One async agent per topic reads batches (aiokafka), validates each record against its contract,
COPYs the batch into a staging table and merges it into ``bronze.<table>`` on the record's Kafka
coordinates, and commits the offsets only after the database commit.
"""
