#!/usr/bin/env bash
# Setup step: the Java jars from Maven Central (cache ~/.m2): the Kafka broker's runtime classpath
# (infra/kafka/pom.xml -> $LOCAL_DIR/lib/kafka) and the shaded Flink Kafka connector
# (infra/flink/pom.xml -> $LOCAL_DIR/lib/flink). Skipped when a pom's hash matches its stamp.
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

resolve() {  # resolve NAME POM DEST
  local name="$1" pom="$2" dest="$3" hash out
  hash="$(hash_inputs "$pom")"
  if stamp_ok "jars-$name" "$hash" && compgen -G "$dest/*.jar" >/dev/null; then
    return 1
  fi
  need_cmd mvn "Maven is missing: run 'make setup' (scripts/setup.d/20-apt.sh installs it)."
  rm -rf "$dest.tmp"
  if ! out="$(mvn -B -q -ntp -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$dest.tmp" 2>&1)"; then
    echo "$out" | tail -n 30 >&2
    rm -rf "$dest.tmp"
    die "could not download the $name jars from Maven Central ($pom); Maven's output is above"
  fi
  # Swap in atomically so an old version's jars never linger on the classpath.
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  stamp_write "jars-$name" "$hash"
}

mkdir -p "$LOCAL_DIR/lib"
done_list=()
resolve kafka "$REPO/infra/kafka/pom.xml" "$LOCAL_DIR/lib/kafka" && done_list+=(kafka)
resolve flink "$REPO/infra/flink/pom.xml" "$LOCAL_DIR/lib/flink" && done_list+=(flink-connector)
if ((${#done_list[@]})); then
  step_log "resolved jars: ${done_list[*]} (into .local/lib)"
else
  step_log "jars up to date"
fi
