#!/usr/bin/env bash
# Compile the job's Java helpers (services/fraud-scorer/java/src) into one jar, against the Flink
# and Kafka connector jars the job runs with (no download: the classpath is what PyFlink and setup already
# have). Used by scripts/setup.d/52-flink-java.sh and the fraud-scorer Dockerfile.
#   services/fraud-scorer/java/build.sh OUT_JAR CLASSPATH
set -euo pipefail
out="${1:?output jar}"
classpath="${2:?compile classpath}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/src"
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
mapfile -t sources < <(find "$src" -name '*.java' | sort)
javac --release 17 -Xlint:all -Werror -nowarn -d "$classes" -cp "$classpath" "${sources[@]}"
mkdir -p "$(dirname "$out")"
jar --create --file "$out.tmp" -C "$classes" .
mv "$out.tmp" "$out"
