#!/usr/bin/env bash
# Runs a set of JMH benchmarks several times (one fork each) and prints every benchmark's score
# as a ratio to a baseline benchmark measured in the same round, then the median ratio over the
# rounds. On a shared machine the ratio within a round is much steadier than the raw ns/op.
#
#   benchmarks/scripts/jmh-rounds.sh ROUNDS BASELINE REGEX [more JMH options]
#   benchmarks/scripts/jmh-rounds.sh 5 threadLocalGet 'CoreBenchmarks.(threadLocalGet|reqctxCurrent|grpcCurrent|otelCurrent)$'
#
# BASELINE is a benchmark method name matched by REGEX. Needs the benchmarks jar
# (./mvnw -q -pl benchmarks -am package -DskipTests). Raw CSV per round goes to OUT
# (default benchmarks/results/<date>/jmh-rounds-<BASELINE>).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=$1 baseline=$2 regex=$3
shift 3
OUT=${OUT:-benchmarks/results/$(date +%Y-%m-%d)/jmh-rounds-$baseline}
mkdir -p "$OUT"
jar=$(mktemp --suffix=.jar)
trap 'rm -f "$jar"' EXIT
# A copy, so a rebuild during the run cannot change the forks' classes.
cp benchmarks/target/benchmarks.jar "$jar"
echo "# jmh-rounds $(date -Is); $(java -version 2>&1 | head -1); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
echo "# $rounds rounds of: java -jar benchmarks.jar '$regex' -f 1 $*" | tee -a "$OUT/summary.txt"
for round in $(seq 1 "$rounds"); do
	java -jar "$jar" "$regex" -f 1 -rf csv -rff "$OUT/round$round.csv" "$@" >"$OUT/round$round.txt" 2>&1
	echo "# round $round done, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/summary.txt"
done
# "benchmark[,params] ratio" per round (ratio to the baseline with the same params), then the
# median per benchmark. Plain awk (mawk has no sort function): sort does the ordering.
for round in $(seq 1 "$rounds"); do
	awk -F, -v base="$baseline" 'NR > 1 {
		gsub(/"/, "");
		n = split($1, parts, "Benchmarks."); name = parts[n]; sub(/:.*gc\./, ":gc.", name); params = "";
		for (i = 8; i <= NF; i++) if ($i != "") params = params "," $i;
		score[name params] = $5; unit[name params] = $7; b[name params] = base params }
		END { for (k in score) if (b[k] in score && score[b[k]] > 0)
			printf "%s %.4f %s %s\n", k, score[k] / score[b[k]], score[k], unit[k] }' "$OUT/round$round.csv"
done | sort -k1,1 -k2,2g | awk -v base="$baseline" '
	function flush() { if (key != "") printf "%-50s median ratio to %s: %6.3f  (rounds: %s) last %s %s\n", key, base,
		(n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, all, last, unit }
	$1 != key { flush(); key = $1; n = 0; all = "" }
	{ v[++n] = $2; all = all (n > 1 ? " " : "") $2; last = $3; unit = $4 }
	END { flush() }' | tee -a "$OUT/summary.txt"
