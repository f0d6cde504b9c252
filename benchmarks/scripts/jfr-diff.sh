#!/usr/bin/env bash
# A differential CPU profile of the sample service under wrk, reqctx on against off: both
# services run at once pinned to CPU 0 (wrk on CPU 1), are warmed up to their plateau in
# alternating slices, then each is recorded by JDK Flight Recorder with execution samples every
# millisecond (the default profile samples every 10-20 ms, too coarse to see 5 us a request).
# jfr-diff.py then prints, per 1,000 requests, the samples in which each method is on the stack
# (inclusive) in both modes and the difference, largest first: what reqctx's extra time is made of.
#
#   benchmarks/scripts/jfr-diff.sh        # WARMUP=150s per service (5 slices), DURATION=30s recorded
set -euo pipefail
cd "$(dirname "$0")/../.."
ENDPOINT=${ENDPOINT:-/demo/ping}
WARMUP=${WARMUP:-150s}
WARMUP_SLICES=${WARMUP_SLICES:-5}
DURATION=${DURATION:-30s}
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/jfr-diff}
mkdir -p "$OUT"
jar=$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v original | head -1)
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
sed 's|<setting name="period" control="method-sampling-java-interval">[^<]*</setting>|<setting name="period">1 ms</setting>|' \
	"$java_home/lib/jfr/profile.jfc" >"$OUT/profile-1ms.jfc"
grep -q '<setting name="period">1 ms</setting>' "$OUT/profile-1ms.jfc" || { echo "could not set the sampling period" >&2; exit 1; }
. benchmarks/scripts/common.sh
declare -A pid=() port=()
trap 'for p in "${pid[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true' EXIT INT TERM
for mode in true false; do
	port[$mode]=$(free_port)
	# shellcheck disable=SC2086
	"${server_cpu[@]}" java -Xms256m -Xmx256m -jar "$jar" --server.port="${port[$mode]}" --reqctx.enabled="$mode" \
		--logging.level.root=warn --spring.main.banner-mode=off ${SERVER_ARGS:-} >"$OUT/server-$mode.log" 2>&1 &
	pid[$mode]=$!
done
for mode in true false; do
	for _ in $(seq 1 1200); do curl -fs -o /dev/null "http://127.0.0.1:${port[$mode]}$ENDPOINT" && break; sleep 0.1; done
done
for _ in $(seq 1 "$WARMUP_SLICES"); do
	for mode in true false; do
		"${wrk_cpu[@]}" wrk -t1 -c16 -d"$(( ${WARMUP%s} / WARMUP_SLICES ))s" "http://127.0.0.1:${port[$mode]}$ENDPOINT" \
			| awk -v m="$mode" '/^Requests\/sec:/ { print "warm-up reqctx.enabled=" m ": " $2 " requests/s" }'
	done
done | tee "$OUT/warmup.txt"
for mode in true false; do
	jcmd "${pid[$mode]}" JFR.start name=diff settings="$OUT/profile-1ms.jfc" filename="$OUT/reqctx-$mode.jfr" >/dev/null
	"${wrk_cpu[@]}" wrk -t1 -c16 -d"$DURATION" --latency "http://127.0.0.1:${port[$mode]}$ENDPOINT" >"$OUT/wrk-reqctx-$mode.txt"
	jcmd "${pid[$mode]}" JFR.stop name=diff >/dev/null
done
for mode in true false; do
	jfr print --events jdk.ExecutionSample --stack-depth 200 "$OUT/reqctx-$mode.jfr" | gzip >"$OUT/samples-reqctx-$mode.txt.gz"
done
python3 benchmarks/scripts/jfr-diff.py "$OUT" | tee "$OUT/summary.txt"
