#!/usr/bin/env bash
# What reqctx costs per request, measured two ways on the sample service's /demo/ping with
# everything on (MDC, tracing with sampling 1.0, Prometheus meters, the deadline timer,
# client-gone detection):
#
# 1. Profile: async-profiler (fetched from Maven Central as tools.profiler:async-profiler; the
#    native library is inside the jar) is attached with jcmd to a warmed-up service under a fixed
#    wrk load, PROFILES times; each profile's CPU samples are attributed to reqctx components by
#    profile-cost.py and printed per request, next to the service's total.
# 2. A/B with an A/A control: PAIRS rounds, each starting three fresh JVMs (reqctx on, off, and
#    off again), warming them alike, then BURSTS rotating wrk bursts against each; the service's
#    CPU per request (utime + stime from /proc over the burst, divided by the requests served)
#    gives an on/off ratio and an off/off ratio per round. The difference is resolvable only if
#    the on/off ratios fall outside the range of the off/off ones.
#
#   benchmarks/scripts/profile-cost.sh                   # about 25 minutes
#   PAIRS=6 BURSTS=3 DURATION=5s PROFILES=3 SKIP_BUILD=1 benchmarks/scripts/profile-cost.sh
#
# Settings (environment): PROFILES (3), PROFILE_DURATION (20s), PAIRS (6), BURSTS (3),
# DURATION (5s), WARMUP (60s per service at least, in slices of 10s, then until the rate is
# steady within 3 %), MAX_WARMUP (240s), CONNECTIONS (16), EVENT (cpu;
# itimer where perf events are not allowed; more profiler options may follow it, e.g.
# "cpu,features=vtable" to show vtable and itable stubs as frames), INTERVAL (1ms),
# SERVER_ARGS (extra arguments for every service), CONTROL_FILTER (1: every service also runs
# the benchmarks' do-nothing filter, whose frames profile-cost.py prints on their own line as
# the floor any filter in reqctx's place pays), JAVA_OPTS (-Xms256m -Xmx256m), JAR (the sample
# jar to run: another build to compare), SKIP_BUILD, SKIP_AB, SKIP_PROFILE, OUT.
set -euo pipefail

cd "$(dirname "$0")/../.."
ENDPOINT=${ENDPOINT:-/demo/ping}
PROFILES=${PROFILES:-3}
PROFILE_DURATION=${PROFILE_DURATION:-20s}
PAIRS=${PAIRS:-6}
BURSTS=${BURSTS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-60s}
MAX_WARMUP=${MAX_WARMUP:-240s}
CONNECTIONS=${CONNECTIONS:-16}
EVENT=${EVENT:-cpu}
INTERVAL=${INTERVAL:-1ms}
JAVA_OPTS=${JAVA_OPTS:--Xms256m -Xmx256m}
ASPROF_VERSION=${ASPROF_VERSION:-4.1}
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/profile-cost}
mkdir -p "$OUT"

command -v wrk >/dev/null || { echo "wrk is missing: run benchmarks/scripts/install-tools.sh" >&2; exit 1; }
command -v jcmd >/dev/null || { echo "jcmd (from the JDK) is missing" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
	rm -f sample-service/target/reqctx-sample-service-*.jar
	./mvnw -q -B -DskipTests -pl sample-service -am install
fi
jar=${JAR:-$(ls sample-service/target/reqctx-sample-service-*.jar | grep -v original | head -1)}

# The control filter: the jar runs through its PropertiesLauncher, with the benchmarks' load
# classes on the loader path.
launch=(-jar "$jar")
control_args=()
extra=
if [ "${CONTROL_FILTER:-0}" = 1 ]; then
	classes=benchmarks/target/classes/dev/reqctx/benchmarks/load
	[ -f "$classes/NoopFilter.class" ] || ./mvnw -q -B -DskipTests -pl benchmarks -am install
	extra=$(mktemp -d)
	mkdir -p "$extra/dev/reqctx/benchmarks/load"
	cp "$classes"/*.class "$extra/dev/reqctx/benchmarks/load/"
	launch=(-Dloader.path="$extra" -cp "$jar" org.springframework.boot.loader.launch.PropertiesLauncher)
	control_args=(--spring.main.sources=dev.reqctx.benchmarks.load.NoopFilter)
fi

# async-profiler from Maven Central: the jar carries libasyncProfiler.so for linux-x64.
lib="benchmarks/target/async-profiler-$ASPROF_VERSION/linux-x64/libasyncProfiler.so"
if [ ! -f "$lib" ]; then
	./mvnw -q -B dependency:copy -Dartifact="tools.profiler:async-profiler:$ASPROF_VERSION" \
		-DoutputDirectory=benchmarks/target
	mkdir -p "benchmarks/target/async-profiler-$ASPROF_VERSION"
	(cd "benchmarks/target/async-profiler-$ASPROF_VERSION" && unzip -q -o "../async-profiler-$ASPROF_VERSION.jar" 'linux-x64/*')
fi
lib=$(realpath "$lib")

. benchmarks/scripts/common.sh

pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ -z "$extra" ] || rm -rf "$extra"
}
trap cleanup EXIT INT TERM

declare -A pid=() port=()
start_server() { # $1 = name, $2 = true|false (reqctx.enabled)
	local p
	p=$(free_port)
	# shellcheck disable=SC2086
	"${server_cpu[@]}" java $JAVA_OPTS -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints "${launch[@]}" \
		--server.port="$p" --reqctx.enabled="$2" --logging.level.root=warn --spring.main.banner-mode=off \
		"${control_args[@]}" ${SERVER_ARGS:-} >"$OUT/server-$1.log" 2>&1 &
	pid[$1]=$!
	port[$1]=$p
	pids+=("$!")
}

await_server() { # $1 = name
	for _ in $(seq 1 1200); do
		if curl -fs -o /dev/null "http://127.0.0.1:${port[$1]}${ENDPOINT}"; then
			return
		fi
		kill -0 "${pid[$1]}" 2>/dev/null || { echo "server $1 exited; see $OUT/server-$1.log" >&2; exit 1; }
		sleep 0.1
	done
	echo "server $1 did not start in 120 s" >&2
	exit 1
}

stop_server() { # $1 = name
	kill "${pid[$1]}" 2>/dev/null || true
	wait "${pid[$1]}" 2>/dev/null || true
}

# Runs wrk against a server; prints the number of requests served (fails on errors).
load() { # $1 = name, $2 = duration, $3 = output file
	"${wrk_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"$2" "http://127.0.0.1:${port[$1]}${ENDPOINT}" >"$3"
	if grep -q 'Non-2xx\|Socket errors' "$3"; then
		echo "errors in $3" >&2
		exit 1
	fi
	awk '/requests in/ { print $1 }' "$3"
}

cpu_ticks() { # $1 = pid: utime + stime in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Warms the services up in alternating 10 s slices for at least WARMUP, then until each one's
# rate changed by less than 3 % over its last slice (a pinned service keeps speeding up for 1-2
# minutes while the JIT works), at most MAX_WARMUP; prints each service's slice rates.
warm_up() { # names...
	local min=$(( ${WARMUP%s} / 10 )) max=$(( ${MAX_WARMUP%s} / 10 )) slice=0 settled
	declare -A last=() rates=()
	while :; do
		slice=$((slice + 1))
		settled=1
		for name in "$@"; do
			local n
			n=$(load "$name" 10s "$OUT/warmup.txt")
			rates[$name]="${rates[$name]:-} $((n / 10))"
			if [ -z "${last[$name]:-}" ] || ! awk -v a="${last[$name]}" -v b="$n" 'BEGIN { exit !(b < a * 1.03 && b > a * 0.97) }'; then
				settled=0
			fi
			last[$name]=$n
		done
		if { [ "$slice" -ge "$min" ] && [ "$settled" = 1 ]; } || [ "$slice" -ge "$max" ]; then
			break
		fi
	done
	for name in "$@"; do
		echo "# warm-up $name requests/s per 10 s slice:${rates[$name]}" >>"$summary"
	done
}

interval_ns=$(awk -v v="$INTERVAL" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
	f = (u == "ms") ? 1000000 : (u == "us") ? 1000 : (u == "s") ? 1000000000 : 1; printf "%d", n * f }')
summary="$OUT/summary.txt"
{
	echo "# profile-cost $(date -Is), checkout $(git rev-parse --short HEAD 2>/dev/null || true), jar $jar (sha256 $(sha256sum "$jar" | cut -c1-12))"
	echo "# $(java -version 2>&1 | head -1); nproc $(nproc); load at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# ${ENDPOINT}, wrk -t1 -c$CONNECTIONS, services pinned: $([ ${#server_cpu[@]} -gt 0 ] && echo 'cpu 0, wrk cpu 1' || echo no), JAVA_OPTS: $JAVA_OPTS ${control_args[*]} ${SERVER_ARGS:-}"
} | tee "$summary"

if [ "${SKIP_PROFILE:-0}" != 1 ]; then
	echo "## 1. async-profiler $ASPROF_VERSION, event=$EVENT interval=$INTERVAL, $PROFILES profiles of $PROFILE_DURATION after a $WARMUP warm-up" | tee -a "$summary"
	start_server profiled true
	await_server profiled
	warm_up profiled
	for i in $(seq 1 "$PROFILES"); do
		# jcmd would read key=value pairs as its own arguments: the agent's options are quoted.
		jcmd "${pid[profiled]}" JVMTI.agent_load "$lib" "\"start,event=$EVENT,interval=$INTERVAL\"" >"$OUT/jcmd.txt" 2>&1
		requests=$(load profiled "$PROFILE_DURATION" "$OUT/profile$i-wrk.txt")
		jcmd "${pid[profiled]}" JVMTI.agent_load "$lib" "\"stop,file=$(realpath "$OUT")/profile$i.collapsed,collapsed\"" >>"$OUT/jcmd.txt" 2>&1
		echo "# profile $i:" | tee -a "$summary"
		python3 benchmarks/scripts/profile-cost.py "$OUT/profile$i.collapsed" "$requests" "$interval_ns" | tee -a "$summary"
	done
	stop_server profiled
fi

if [ "${SKIP_AB:-0}" != 1 ]; then
	echo "## 2. A/B: $PAIRS rounds of three fresh JVMs (on, off, off again), $BURSTS rotating bursts of $DURATION each; server CPU us/request" | tee -a "$summary"
	printf '%-6s %-6s %9s %9s %9s %8s %8s\n' round burst on_us off_us off2_us on/off off2/off | tee -a "$summary"
	ab=() aa=() on_all=() off_all=()
	for round in $(seq 1 "$PAIRS"); do
		start_server on true
		start_server off false
		start_server off2 false
		for name in on off off2; do await_server "$name"; done
		warm_up on off off2
		r_ab=() r_aa=()
		for burst in $(seq 1 "$BURSTS"); do
			case $(( (round + burst) % 3 )) in
				0) order=(on off off2) ;; 1) order=(off off2 on) ;; *) order=(off2 on off) ;;
			esac
			declare -A us=()
			for name in "${order[@]}"; do
				before=$(cpu_ticks "${pid[$name]}")
				requests=$(load "$name" "$DURATION" "$OUT/round$round-burst$burst-$name.txt")
				after=$(cpu_ticks "${pid[$name]}")
				us[$name]=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" 'BEGIN { printf "%.3f", t / hz * 1e6 / n }')
			done
			rab=$(awk -v a="${us[on]}" -v b="${us[off]}" 'BEGIN { printf "%.4f", a / b }')
			raa=$(awk -v a="${us[off2]}" -v b="${us[off]}" 'BEGIN { printf "%.4f", a / b }')
			r_ab+=("$rab") r_aa+=("$raa") on_all+=("${us[on]}") off_all+=("${us[off]}")
			printf '%-6s %-6s %9s %9s %9s %8s %8s\n' "$round" "$burst" "${us[on]}" "${us[off]}" "${us[off2]}" "$rab" "$raa" | tee -a "$summary"
			unset us
		done
		ab+=("$(median "${r_ab[@]}")") aa+=("$(median "${r_aa[@]}")")
		for name in on off off2; do stop_server "$name"; done
	done
	{
		echo "per-round median on/off (A/B):     ${ab[*]}"
		echo "per-round median off/off (A/A):    ${aa[*]}"
		echo "median on/off $(median "${ab[@]}"), off/off $(median "${aa[@]}"); median us/request on $(median "${on_all[@]}"), off $(median "${off_all[@]}")"
		awk -v ab="${ab[*]}" -v aa="${aa[*]}" 'BEGIN {
			n = split(ab, x, " "); m = split(aa, y, " ");
			lo = 1e9; hi = -1e9; for (i = 1; i <= m; i++) { if (y[i] < lo) lo = y[i]; if (y[i] > hi) hi = y[i] }
			out = 0; for (i = 1; i <= n; i++) if (x[i] < lo || x[i] > hi) out++;
			printf "A/A range %.4f..%.4f; %d of %d A/B rounds fall outside it: %s\n", lo, hi, out, n,
				(out == n) ? "the difference is resolvable" : "the difference is NOT resolvable end to end" }'
		echo "# load at end $(cut -d' ' -f1-3 /proc/loadavg)"
	} | tee -a "$summary"
fi
