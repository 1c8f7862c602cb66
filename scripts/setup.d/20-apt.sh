#!/usr/bin/env bash
# Setup step: the Debian packages the local infrastructure needs — PostgreSQL server binaries
# (postgresql), ss (iproute2), ps (procps), Java 17 (openjdk-17-jre-headless), Maven (maven) and a
# C compiler (gcc: mypyc builds the scoring modules, step 51).
# Installs only what is missing with apt-get (apt-get update only then). Debian's default cluster
# 'main' is not created: StreamFlow runs its own private cluster (scripts/infra/postgres.sh).
set -euo pipefail
# shellcheck source=scripts/infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

missing=()
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
command -v ps >/dev/null 2>&1 || missing+=(procps)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null 2>&1 || [[ "$(java_major)" -lt 17 ]]; then
  missing+=(openjdk-17-jre-headless)
fi

if ((${#missing[@]} == 0)); then
  step_log "system packages present"
  exit 0
fi

step_log "installing ${missing[*]} with apt-get"
sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 \
    || die "missing packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"
  sudo=(sudo -n)
fi
# No default 'main' cluster (it would listen on 5432 and is not used).
if [[ " ${missing[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
  "${sudo[@]}" mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
log_file="$(mktemp)"
if ! { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log_file" 2>&1; then
  tail -n 30 "$log_file" >&2
  die "apt-get could not install: ${missing[*]} (output above)"
fi
rm -f "$log_file"
if ! command -v java >/dev/null 2>&1 || [[ "$(java_major)" -lt 17 ]]; then
  die "Java 17 is still not the default 'java' ($(java -version 2>&1 | head -n1)); select it with update-alternatives --config java"
fi
