#!/usr/bin/env bash
# Makes sure a PostgreSQL server is installed for the tests, which start their own
# throwaway server on a free port (see PostgresServer in autoconfigure's test sources).
# Safe to run again: it installs only when no server binaries are found.
set -euo pipefail

# Highest version under /usr/lib/postgresql whose bin dir has initdb, or nothing.
find_bin() {
	local dir
	if [[ -n "${REQCTX_PG_BIN:-}" ]]; then
		[[ -x "$REQCTX_PG_BIN/initdb" ]] && echo "$REQCTX_PG_BIN"
		return 0
	fi
	for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x "$dir/initdb" ]]; then
			echo "$dir"
			return 0
		fi
	done
}

if [[ -n "${REQCTX_PG_URL:-}" ]]; then
	echo "install-postgres: REQCTX_PG_URL is set, tests use the external server $REQCTX_PG_URL"
	exit 0
fi

bin="$(find_bin)"
if [[ -z "$bin" ]]; then
	if [[ -n "${REQCTX_PG_BIN:-}" ]]; then
		echo "install-postgres: REQCTX_PG_BIN=$REQCTX_PG_BIN has no initdb" >&2
		exit 1
	fi
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "install-postgres: PostgreSQL is not installed. Install it with:" >&2
		echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql" >&2
		exit 1
	fi
	echo "install-postgres: installing PostgreSQL from Debian's packages"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql </dev/null
	# The package creates a "main" cluster and may start it on 5432. The tests never use
	# it (they run their own server on a free port), so don't leave it holding memory and
	# the port.
	if command -v pg_lsclusters >/dev/null; then
		pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _; do
			pg_ctlcluster "$version" "$cluster" stop 2>/dev/null || true
		done || true
	fi
	bin="$(find_bin)"
	if [[ -z "$bin" ]]; then
		echo "install-postgres: installed the postgresql package but found no /usr/lib/postgresql/*/bin/initdb" >&2
		exit 1
	fi
fi

# The tests refuse to run the server as root, so they run it as the postgres user then.
if [[ "$(id -u)" -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
	echo "install-postgres: running as root but there is no postgres OS user to run the server as" >&2
	exit 1
fi

echo "install-postgres: found $("$bin/postgres" --version) in $bin"
