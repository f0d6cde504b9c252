#!/usr/bin/env bash
# What each part of reqctx costs per request over HTTP: the sample service in several
# configurations at once (fresh JVMs, all pinned to CPU 0, wrk on CPU 1), warmed up to their
# plateau in alternating slices, then measured in cycles of one wrk burst per configuration,
# the order rotating every cycle. Each configuration's throughput is divided by the baseline's
# (the first) in the same cycle; the result is the median over the cycles. Same method as
# wrk-overhead.sh, for more than two configurations.
#
#   benchmarks/scripts/wrk-variants.sh
#   VARIANTS='off=--reqctx.enabled=false;on=' CYCLES=8 benchmarks/scripts/wrk-variants.sh
#
# Settings (environment): VARIANTS ("name=arguments" separated by ';', the first is the
# baseline; e.g. "noop=--reqctx.enabled=false --spring.main.sources=dev.reqctx.benchmarks.load.NoopFilter"
# adds a filter that does nothing; default: off, the core alone (filter, context, timer, registry: every integration
# switched off), core + MDC, core + tracing, everything), CYCLES (8), DURATION (10s), WARMUP
# (120s per configuration, in WARMUP_SLICES (4) slices), CONNECTIONS
# (16), ENDPOINT (/demo/ping), JAVA_OPTS (-Xms256m -Xmx256m), SKIP_BUILD, OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
core='--reqctx.logging.enabled=false --reqctx.tracing.enabled=false --reqctx.metrics.enabled=false --reqctx.jdbc.enabled=false --reqctx.http.enabled=false --reqctx.task.enabled=false'
VARIANTS=${VARIANTS:-"off=--reqctx.enabled=false;core=$core;core+mdc=${core/--reqctx.logging.enabled=false/};core+tracing=${core/--reqctx.tracing.enabled=false/};all="}
CYCLES=${CYCLES:-8}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-120s}
WARMUP_SLICES=${WARMUP_SLICES:-4}
CONNECTIONS=${CONNECTIONS:-16}
ENDPOINT=${ENDPOINT:-/demo/ping}
JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m}
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/wrk-variants}
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: run benchmarks/scripts/install-tools.sh" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
	./mvnw -q -B -DskipTests -pl sample-service,benchmarks -am package
fi
jar=$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v original | head -1)
# Every configuration starts through the PropertiesLauncher with the benchmarks' load classes on
# its loader path, so a variant can add one (NoopFilter) with --spring.main.sources.
extra=$(mktemp -d)
mkdir -p "$extra/dev/reqctx/benchmarks/load"
cp benchmarks/target/classes/dev/reqctx/benchmarks/load/*.class "$extra/dev/reqctx/benchmarks/load/"
. benchmarks/scripts/common.sh

IFS=';' read -r -a specs <<<"$VARIANTS"
names=()
declare -A args=() pid=() port=()
for spec in "${specs[@]}"; do
	name=${spec%%=*}
	names+=("$name")
	args[$name]=${spec#*=}
done
trap 'for p in "${pid[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true; rm -rf "$extra"' EXIT INT TERM

for name in "${names[@]}"; do
	port[$name]=$(free_port)
	# shellcheck disable=SC2086
	"${server_cpu[@]}" java $JAVA_OPTS -Dloader.path="$extra" -cp "$jar" org.springframework.boot.loader.launch.PropertiesLauncher \
		--server.port="${port[$name]}" --logging.level.root=warn \
		--spring.main.banner-mode=off ${args[$name]} >"$OUT/server-$name.log" 2>&1 &
	pid[$name]=$!
done
for name in "${names[@]}"; do
	ok=
	for _ in $(seq 1 1800); do
		if curl -fs -o /dev/null "http://127.0.0.1:${port[$name]}$ENDPOINT"; then ok=1; break; fi
		kill -0 "${pid[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$ok" ] || { echo "$name did not start; see $OUT/server-$name.log" >&2; exit 1; }
done

rps_of() { printf '%.0f' "$(wrk_rps "$1")"; }
summary="$OUT/summary.txt"
{
	echo "# wrk-variants $(date -Is); $(java -version 2>&1 | head -1); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# wrk -t1 -c$CONNECTIONS -d$DURATION $ENDPOINT; $CYCLES cycles; warm-up $WARMUP per configuration; JAVA_OPTS $JAVA_OPTS"
	for name in "${names[@]}"; do echo "# $name: ${args[$name]:-(defaults)}"; done
} | tee "$summary"
declare -A warm=()
for _ in $(seq 1 "$WARMUP_SLICES"); do
	for name in "${names[@]}"; do
		"${wrk_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"$(( ${WARMUP%s} / WARMUP_SLICES ))s" "http://127.0.0.1:${port[$name]}$ENDPOINT" >"$OUT/warmup.txt"
		warm[$name]="${warm[$name]:-} $(rps_of "$OUT/warmup.txt")"
	done
done
for name in "${names[@]}"; do echo "# warm-up requests/s per slice, $name:${warm[$name]}"; done | tee -a "$summary"

declare -A ratios=() p99s=()
count=${#names[@]}
printf 'cycle %s\n' "$(printf '%12s ' "${names[@]}")" | tee -a "$summary"
for cycle in $(seq 1 "$CYCLES"); do
	declare -A rps=()
	for k in $(seq 0 $((count - 1))); do
		name=${names[$(((k + cycle) % count))]}
		file="$OUT/cycle$cycle-$name.txt"
		"${wrk_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:${port[$name]}$ENDPOINT" >"$file"
		if grep -q 'Non-2xx\|Socket errors' "$file"; then echo "errors in $file" >&2; exit 1; fi
		rps[$name]=$(rps_of "$file")
		p99s[$name]="${p99s[$name]:-} $(awk '$1 == "99%" { print $2 }' "$file")"
	done
	line=""
	for name in "${names[@]}"; do
		r=$(awk -v a="${rps[$name]}" -v b="${rps[${names[0]}]}" 'BEGIN { printf "%.3f", a / b }')
		ratios[$name]="${ratios[$name]:-} $r"
		line="$line$(printf '%6s %5s ' "${rps[$name]}" "$r")"
	done
	echo "$cycle     $line" | tee -a "$summary"
	unset rps
done
{
	echo "# throughput relative to ${names[0]}, median over cycles (interquartile); p99 per burst as wrk printed it"
	for name in "${names[@]}"; do
		# shellcheck disable=SC2086
		printf '%-14s %s (%s)  p99: %s\n' "$name" "$(median ${ratios[$name]})" "$(quartiles ${ratios[$name]})" "${p99s[$name]}"
	done
	echo "# load at end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$summary"
