#!/usr/bin/env bash
# Cancel latency on real PostgreSQL and on H2: reqctx against statement_timeout (the floor) and
# JdbcTemplate.setQueryTimeout (whole seconds), alternated in one run. See CancelLatency's
# javadoc for what is measured. Starts (and removes) its own throwaway PostgreSQL, like the
# tests; scripts/install-postgres.sh installs the server if it is missing.
#
#   benchmarks/scripts/cancel-latency.sh [samples per mode (60)] [budget ms (100)]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)}
mkdir -p "$OUT"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
	./mvnw -q -B -DskipTests -pl benchmarks -am package
fi
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT INT TERM
# Bounded: 60 samples take about 3 minutes; the JVM is stopped after 15 whatever happens.
timeout 900 java -cp benchmarks/target/benchmarks.jar dev.reqctx.benchmarks.load.CancelLatency "$@" \
	> >(tee "$OUT/cancel-latency.txt") 2>&1 &
pid=$!
wait "$pid"
pid=
