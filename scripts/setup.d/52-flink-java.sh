#!/usr/bin/env bash
# Setup step: the scoring job's Java helpers (services/fraud-scorer/java, e.g. the customer-keyed
# Kafka deserializer) compiled into $LOCAL_DIR/lib/flink-java/streamflow-flink-java.jar against the
# PyFlink env's Flink jars and the Kafka connector from step 40. Skipped when the sources and
# the classpath are unchanged.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
cd "$REPO"

need_cmd javac "javac is missing: install a JDK 17 (Debian: openjdk-17-jdk-headless)."
pyflink_lib="$(services/fraud-scorer/.venv/bin/python -c 'import pathlib, pyflink; print(pathlib.Path(pyflink.__file__).parent / "lib")')"
connector="$(ls "$LOCAL_DIR"/lib/flink/flink-sql-connector-kafka-*.jar | sort | tail -n 1)"
classpath="$(ls "$pyflink_lib"/flink-dist-*.jar):$connector"
out="$LOCAL_DIR/lib/flink-java/streamflow-flink-java.jar"
mapfile -t sources < <(find services/fraud-scorer/java -type f | sort)
hash="$(hash_inputs "${sources[@]}" "$classpath")"
if stamp_ok flink-java "$hash" && [[ -f "$out" ]]; then
  step_log "flink java helpers up to date"
  exit 0
fi
services/fraud-scorer/java/build.sh "$out" "$classpath" \
  || die "could not compile services/fraud-scorer/java (javac's output is above)"
stamp_write flink-java "$hash"
step_log "built $out"
