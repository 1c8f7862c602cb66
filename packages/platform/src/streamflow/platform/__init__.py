"""StreamFlow shared infrastructure: settings, Kafka clients and admin, migrations, readiness."""
