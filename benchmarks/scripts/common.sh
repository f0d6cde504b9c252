# Helpers shared by the load scripts; source it after cd-ing to the repository root:
#   . benchmarks/scripts/common.sh

# Pins services to CPU 0 and the load generator to CPU 1 when there are 2+ CPUs and taskset
# exists (PIN=0 turns it off): prefix commands with "${server_cpu[@]}" and "${wrk_cpu[@]}".
server_cpu=() wrk_cpu=()
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	server_cpu=(taskset -c 0)
	wrk_cpu=(taskset -c 1)
fi

# Prints a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Prints the requests/s of a wrk output file, as wrk printed it.
wrk_rps() {
	awk '/^Requests\/sec:/ { print $2 }' "$1"
}

# Prints the median of the numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Prints "first..third" quartile of the numbers given as arguments.
quartiles() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { printf "%s..%s", a[int((NR + 3) / 4)], a[int((3 * NR + 3) / 4)] }'
}
