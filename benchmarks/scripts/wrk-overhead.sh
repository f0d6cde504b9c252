#!/usr/bin/env bash
# Per-request overhead of reqctx over real HTTP on loopback: the sample service's trivial
# endpoint (/demo/echo) with the starter on (--reqctx.enabled=true) and off
# (--reqctx.enabled=false), alternated in the same run (on/off, then off/on, ...), so both see
# the same machine. Each round starts a fresh JVM, warms it up with wrk, measures with wrk, and
# stops it. Prints, per round and as the median of the rounds, the throughput ratio on/off and
# p50/p99 latency of both.
#
#   benchmarks/scripts/wrk-overhead.sh                 # 6 rounds of 10 s, results in benchmarks/results/<date>/
#   ROUNDS=4 DURATION=5s benchmarks/scripts/wrk-overhead.sh
#
# Settings (environment): ROUNDS (6), DURATION (10s), WARMUP (10s), THREADS (1), CONNECTIONS
# (16), PIN (1: server on CPU 0, wrk on CPU 1 with taskset, when there are 2+ CPUs; 0: no
# pinning), REQUEST_ID (unset: the filter generates a request id per request, as for a client
# that sends none; set: wrk sends this X-Request-Id), SKIP_BUILD (1: use the jar already built),
# OUT (the results folder), JAVA_OPTS (-Xms256m -Xmx256m).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-10s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-16}
PIN=${PIN:-1}
JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m}
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/wrk-overhead}
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "wrk is missing: run benchmarks/scripts/install-tools.sh" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
	./mvnw -q -B -DskipTests -pl sample-service -am package
fi
jar=$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v -- '-plain\|original' | head -1)

server_cpu=() wrk_cpu=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0)
	wrk_cpu=(taskset -c 1)
fi

server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT INT TERM

free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 30000))
		if ! ss -ltn "sport = :$port" | grep -q LISTEN; then
			echo "$port"
			return
		fi
	done
	echo "no free port" >&2
	return 1
}

start_server() { # $1 = true|false
	local port=$2
	# shellcheck disable=SC2086
	"${server_cpu[@]}" java $JAVA_OPTS -jar "$jar" --server.port="$port" --reqctx.enabled="$1" \
		--logging.level.root=warn --spring.main.banner-mode=off >"$OUT/server-$1-$port.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 600); do
		if curl -fs -o /dev/null "http://127.0.0.1:$port/demo/echo"; then
			return
		fi
		kill -0 "$server_pid" 2>/dev/null || { echo "server exited; see $OUT/server-$1-$port.log" >&2; exit 1; }
		sleep 0.1
	done
	echo "server did not start in 60 s" >&2
	exit 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# Latency as wrk prints it (870.00us, 1.23ms, 1.01s) in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
		if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1000000; else if (u == "m") f = 60000000; else f = 1;
		printf "%.1f", n * f }'
}

header=()
if [ -n "${REQUEST_ID:-}" ]; then
	header=(-H "X-Request-Id: $REQUEST_ID")
fi

run_one() { # $1 = true|false, $2 = round; prints "rps p50us p99us"
	local port raw
	port=$(free_port)
	start_server "$1" "$port"
	"${wrk_cpu[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${header[@]}" "http://127.0.0.1:$port/demo/echo" >/dev/null
	raw="$OUT/round$2-reqctx-$1.txt"
	{
		echo "# $(date -Is) reqctx.enabled=$1 round $2 load: $(cut -d' ' -f1-3 /proc/loadavg)"
		"${wrk_cpu[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${header[@]}" "http://127.0.0.1:$port/demo/echo"
	} >"$raw"
	stop_server
	if grep -q 'Non-2xx' "$raw"; then
		echo "non-2xx responses in $raw" >&2
		exit 1
	fi
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$raw")
	p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$raw")")
	p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$raw")")
	echo "$rps $p50 $p99"
}

summary="$OUT/summary.txt"
{
	echo "# wrk-overhead $(date -Is)"
	echo "# $(java -version 2>&1 | head -1); nproc $(nproc); load at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP), pinned: $([ ${#server_cpu[@]} -gt 0 ] && echo 'server cpu 0, wrk cpu 1' || echo no)," \
		"request id: ${REQUEST_ID:-generated}, JAVA_OPTS: $JAVA_OPTS"
	printf '%-6s %-5s %10s %10s %10s %10s %10s %10s %8s %8s\n' round order on_rps off_rps on_p50us off_p50us on_p99us off_p99us ratio p99_ratio
} | tee "$summary"

ratios=() p99ratios=() on_p50s=() off_p50s=() on_p99s=() off_p99s=()
for round in $(seq 1 "$ROUNDS"); do
	if [ $((round % 2)) -eq 1 ]; then order=(true false); else order=(false true); fi
	declare -A result=()
	for mode in "${order[@]}"; do
		result[$mode]=$(run_one "$mode" "$round")
	done
	read -r on_rps on_p50 on_p99 <<<"${result[true]}"
	read -r off_rps off_p50 off_p99 <<<"${result[false]}"
	ratio=$(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN { printf "%.3f", a / b }')
	p99ratio=$(awk -v a="$on_p99" -v b="$off_p99" 'BEGIN { printf "%.3f", a / b }')
	ratios+=("$ratio") p99ratios+=("$p99ratio")
	on_p50s+=("$on_p50") off_p50s+=("$off_p50") on_p99s+=("$on_p99") off_p99s+=("$off_p99")
	printf '%-6s %-5s %10s %10s %10s %10s %10s %10s %8s %8s\n' "$round" "${order[0]:0:2}/${order[1]:0:3}" \
		"$on_rps" "$off_rps" "$on_p50" "$off_p50" "$on_p99" "$off_p99" "$ratio" "$p99ratio" | tee -a "$summary"
	unset result
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
{
	echo "median throughput ratio on/off: $(median "${ratios[@]}") (rounds: ${ratios[*]})"
	echo "median p99 ratio on/off:        $(median "${p99ratios[@]}") (rounds: ${p99ratios[*]})"
	echo "median p50 us: on $(median "${on_p50s[@]}") off $(median "${off_p50s[@]}")"
	echo "median p99 us: on $(median "${on_p99s[@]}") off $(median "${off_p99s[@]}")"
	echo "# load at end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$summary"
