#!/usr/bin/env bash
# /actuator/requestcontexts with 10,000 requests in flight, over HTTP, while real requests keep
# starting and finishing. The sample service runs with InFlightRequests (benchmarks module),
# which keeps N request contexts registered the way the filter registers them and replaces them
# continuously. Alternates, each round: wrk on /demo/echo alone (A), then wrk on /demo/echo while
# a loop lists the endpoint with its default limit (B1: 100 unless configured) and with ?limit=N
# (B2; the service's max-limit is raised to N for this), then the loop
# alone, with no other HTTP load (C: what a listing costs by itself). Prints the list
# latency (curl time_total) and the echo throughput and p99 with the listing vs without it.
#
#   benchmarks/scripts/endpoint-scale.sh              # N=10000, 3 rounds of 8 s windows
#   IN_FLIGHT=1000 ROUNDS=2 benchmarks/scripts/endpoint-scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
IN_FLIGHT=${IN_FLIGHT:-10000}
ROUNDS=${ROUNDS:-3}
WINDOW=${WINDOW:-8}
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/endpoint-scale}
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: run benchmarks/scripts/install-tools.sh" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
	./mvnw -q -B -DskipTests -pl sample-service,benchmarks -am package
fi
jar=$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v original | head -1)
. benchmarks/scripts/common.sh

extra=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$extra"
}
trap cleanup EXIT INT TERM
mkdir -p "$extra/dev/reqctx/benchmarks/load"
cp benchmarks/target/classes/dev/reqctx/benchmarks/load/InFlightRequests.class "$extra/dev/reqctx/benchmarks/load/"

port=$(free_port)
"${server_cpu[@]}" java -Xms512m -Xmx512m -Dreqctx.bench.in-flight="$IN_FLIGHT" -Dloader.path="$extra" \
	-cp "$jar" org.springframework.boot.loader.launch.PropertiesLauncher --server.port="$port" \
	--spring.main.sources=dev.reqctx.benchmarks.load.InFlightRequests --logging.level.root=warn \
	--management.endpoint.requestcontexts.max-limit="$IN_FLIGHT" \
	--spring.main.banner-mode=off >"$OUT/server.log" 2>&1 &
server_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 600); do
	curl -fs -o /dev/null "$base/demo/echo" && break
	kill -0 "$server_pid" 2>/dev/null || { echo "server exited; see $OUT/server.log" >&2; exit 1; }
	sleep 0.1
done
total=$(curl -fs "$base/actuator/requestcontexts?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2)
echo "# endpoint-scale $(date -Is); $(java -version 2>&1 | head -1); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
echo "# in flight: $total (asked for $IN_FLIGHT); windows of ${WINDOW}s, wrk -t1 -c8 on /demo/echo; pinned: server cpu 0, clients cpu 1" | tee -a "$OUT/summary.txt"

# Warm-up: the endpoint and the echo path.
for _ in $(seq 1 10); do curl -fs -o /dev/null "$base/actuator/requestcontexts"; done
"${wrk_cpu[@]}" wrk -t1 -c8 -d5s "$base/demo/echo" >/dev/null

wrk_window() { # $1 = label; runs wrk for WINDOW seconds, prints "rps p99"
	"${wrk_cpu[@]}" wrk -t1 -c8 -d"${WINDOW}s" --latency "$base/demo/echo" >"$OUT/wrk-$1.txt"
	awk '/^Requests\/sec:/ { rps = $2 } $1 == "99%" { p = $2 } END { print rps, p }' "$OUT/wrk-$1.txt"
}

list_loop() { # $1 = query, $2 = file; lists until the window ends (bounded by count too)
	local end=$((SECONDS + WINDOW))
	for _ in $(seq 1 1000); do
		[ "$SECONDS" -lt "$end" ] || break
		"${wrk_cpu[@]}" curl -fs -o /dev/null -w '%{time_total} %{size_download}\n' "$base/actuator/requestcontexts$1" >>"$2"
	done
}

: >"$OUT/list-default.txt"
: >"$OUT/list-limit.txt"
: >"$OUT/list-idle.txt"
printf '%-6s %-22s %10s %10s\n' round window echo_rps echo_p99 | tee -a "$OUT/summary.txt"
for round in $(seq 1 "$ROUNDS"); do
	read -r a_rps a_p99 <<<"$(wrk_window "r$round-alone")"
	printf '%-6s %-22s %10s %10s\n' "$round" "A: alone" "$a_rps" "$a_p99" | tee -a "$OUT/summary.txt"
	list_loop "" "$OUT/list-default.txt" &
	read -r b_rps b_p99 <<<"$(wrk_window "r$round-listing-default")"
	wait $!
	printf '%-6s %-22s %10s %10s\n' "$round" "B1: + list (default)" "$b_rps" "$b_p99" | tee -a "$OUT/summary.txt"
	list_loop "?limit=$IN_FLIGHT" "$OUT/list-limit.txt" &
	read -r c_rps c_p99 <<<"$(wrk_window "r$round-listing-limit")"
	wait $!
	printf '%-6s %-22s %10s %10s\n' "$round" "B2: + list ?limit=$IN_FLIGHT" "$c_rps" "$c_p99" | tee -a "$OUT/summary.txt"
	# C: the listing with no other HTTP load (the churn of contexts goes on): its own cost.
	list_loop "" "$OUT/list-idle.txt"
done

stats() { # time_total in seconds per line -> n p50 p99 max in ms, and the response size
	sort -g "$1" | awk '{ t[NR] = $1 * 1000; s = $2 } END {
		p50 = t[int((NR + 1) * 0.5)]; i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR;
		printf "n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms (response %d bytes)\n", NR, p50, t[i], t[NR], s }'
}
{
	echo "list, default limit:       $(stats "$OUT/list-default.txt")"
	echo "list, ?limit=$IN_FLIGHT:      $(stats "$OUT/list-limit.txt")"
	echo "list, no other HTTP load:  $(stats "$OUT/list-idle.txt")"
	echo "# echo rps and p99 per window are in the table above (B vs A: the listing's effect on requests)"
	echo "# load at end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$OUT/summary.txt"
