#!/usr/bin/env bash
# Pool storm over HTTP: the sample service on a throwaway PostgreSQL, pool of 10, 100 slow
# requests (30 s SQL, 300 ms budgets) plus 50 fast requests/s for a 10 s window; reqctx vs
# reqctx.jdbc.enabled=false, alternated round by round. See PoolStorm's javadoc.
#
#   benchmarks/scripts/pool-storm.sh [rounds per mode (2)] [window seconds (10)]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)}
mkdir -p "$OUT/pool-storm"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
	./mvnw -q -B -DskipTests -pl sample-service,benchmarks -am package
fi
jar=$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v original | head -1)
pid=
# PoolStorm stops the services it starts; this stops PoolStorm (and so its PostgreSQL) if the
# script is interrupted.
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT INT TERM
timeout 900 java -cp benchmarks/target/benchmarks.jar dev.reqctx.benchmarks.load.PoolStorm "$jar" "$OUT/pool-storm" "$@" \
	> >(tee "$OUT/pool-storm.txt") 2>&1 &
pid=$!
wait "$pid"
pid=
