#!/usr/bin/env bash
# Compares two builds of the benchmarks jar (say, before and after a change to the library):
# runs the same JMH benchmarks from jar A, then jar B, then A, ... (one fork each) and prints
# every benchmark's score in B as a ratio to A in the same round, then the median ratio.
#
#   cp benchmarks/target/benchmarks.jar /tmp/before.jar    # build, copy; change; build again
#   benchmarks/scripts/jmh-ab.sh 3 /tmp/before.jar benchmarks/target/benchmarks.jar 'TimerBenchmarks' -prof gc
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=$1 a=$2 b=$3 regex=$4
shift 4
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/jmh-ab-$(echo "$regex" | tr -c 'A-Za-z0-9' _)}
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$a" "$tmp/a.jar"
cp "$b" "$tmp/b.jar"
[ "${AGGREGATE_ONLY:-0}" = 1 ] || echo "# jmh-ab $(date -Is); $(java -version 2>&1 | head -1); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
[ "${AGGREGATE_ONLY:-0}" = 1 ] || echo "# A = $a, B = $b; $rounds rounds of A then B (B then A in even rounds): java -jar <jar> '$regex' -f 1 $*" | tee -a "$OUT/summary.txt"
for round in $(seq 1 "$rounds"); do
	[ "${AGGREGATE_ONLY:-0}" = 1 ] && break # only print the ratios of an earlier run in OUT
	if [ $((round % 2)) -eq 1 ]; then order=(a b); else order=(b a); fi
	for side in "${order[@]}"; do
		java -jar "$tmp/$side.jar" "$regex" -f 1 -rf csv -rff "$OUT/round$round-$side.csv" "$@" >"$OUT/round$round-$side.txt" 2>&1
	done
	echo "# round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"
done
# "benchmark[,params] ratio B/A scoreA scoreB unit" per round, then the median per benchmark.
for round in $(seq 1 "$rounds"); do
	awk -F, 'FNR > 1 {
		gsub(/"/, "");
		n = split($1, parts, "Benchmarks."); name = parts[n]; sub(/:.*gc\./, ":gc.", name); params = "";
		for (i = 8; i <= NF; i++) if ($i != "") params = params "," $i;
		if (FILENAME ~ /-a\.csv$/) a[name params] = $5; else b[name params] = $5; unit[name params] = $7 }
		END { for (k in a) if (k in b && a[k] > 0) printf "%s %.4f %s %s %s\n", k, b[k] / a[k], a[k], b[k], unit[k] }' \
		"$OUT/round$round-a.csv" "$OUT/round$round-b.csv"
done | sort -k1,1 -k2,2g | awk '
	function flush() { if (key != "") printf "%-60s median B/A: %6.3f  (rounds: %s) last A %s B %s %s\n", key,
		(n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, all, la, lb, unit }
	$1 != key { flush(); key = $1; n = 0; all = "" }
	{ v[++n] = $2; all = all (n > 1 ? " " : "") $2; la = $3; lb = $4; unit = $5 }
	END { flush() }' | tee -a "$OUT/summary.txt"
