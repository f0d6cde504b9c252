#!/usr/bin/env bash
# Profiles the sample service under wrk (ENDPOINT, default /demo/ping) with JDK Flight Recorder, with reqctx on and off, and
# prints the hottest methods of each (top frames of the execution samples) and the bytes
# allocated per request (from JFR's allocation samples). For finding what a difference in
# wrk-overhead.sh is made of.
#
#   benchmarks/scripts/jfr-echo.sh            # 20 s warm-up, 20 s recorded, per mode
set -euo pipefail
cd "$(dirname "$0")/../.."
WARMUP=${WARMUP:-20s}
DURATION=${DURATION:-20s}
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/jfr-echo}
mkdir -p "$OUT"
jar=$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v original | head -1)
. benchmarks/scripts/common.sh
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT INT TERM
for mode in true false; do
	port=$(free_port)
	"${server_cpu[@]}" java -Xms256m -Xmx256m -jar "$jar" --server.port="$port" --reqctx.enabled="$mode" \
		--logging.level.root=warn --spring.main.banner-mode=off >"$OUT/server-$mode.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 1200); do curl -fs -o /dev/null "http://127.0.0.1:$port${ENDPOINT:-/demo/ping}" && break; sleep 0.1; done
	"${wrk_cpu[@]}" wrk -t1 -c16 -d"$WARMUP" "http://127.0.0.1:$port${ENDPOINT:-/demo/ping}" >/dev/null
	jcmd "$pid" JFR.start name=echo settings=profile filename="$OUT/echo-reqctx-$mode.jfr" >/dev/null
	"${wrk_cpu[@]}" wrk -t1 -c16 -d"$DURATION" "http://127.0.0.1:$port${ENDPOINT:-/demo/ping}" >"$OUT/wrk-reqctx-$mode.txt"
	jcmd "$pid" JFR.stop name=echo >/dev/null
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	requests=$(awk '/requests in/ { print $1 }' "$OUT/wrk-reqctx-$mode.txt")
	{
		echo "== reqctx.enabled=$mode: $requests requests recorded"
		echo "-- top frames (execution samples)"
		jfr print --events jdk.ExecutionSample "$OUT/echo-reqctx-$mode.jfr" \
			| awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/line:.*/, ""); print }' \
			| sort | uniq -c | sort -rn | head -25
		echo "-- allocation by class (sampled weight, bytes per request)"
		jfr print --events jdk.ObjectAllocationSample "$OUT/echo-reqctx-$mode.jfr" \
			| awk -v n="$requests" '/objectClass = / { c = $3 } /weight = / { w = $3; u = $4;
				f = (u ~ /^kB/) ? 1024 : (u ~ /^MB/) ? 1048576 : (u ~ /^GB/) ? 1073741824 : 1; gsub(/,/, "", w); s[c] += w * f; t += w * f }
				END { for (k in s) printf "%10.0f %s\n", s[k] / n, k; printf "%10.0f TOTAL bytes/request\n", t / n }' \
			| sort -rn | head -20
	} | tee "$OUT/summary-reqctx-$mode.txt"
done
