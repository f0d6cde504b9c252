#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL for running the sample service against it:
#   scripts/dev-postgres.sh start [port]   # default port 55432; prints the JDBC URL
#   scripts/dev-postgres.sh stop
# Data lives in /tmp/reqctx-dev-postgres and is deleted on stop. As root, the server runs as the
# "postgres" user (PostgreSQL refuses to run as root). Installs PostgreSQL first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=/tmp/reqctx-dev-postgres
ACTION=${1:-start}
PORT=${2:-55432}

bash scripts/install-postgres.sh >/dev/null
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

as_server_user() {
	if [ "$(id -u)" = "0" ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "$ACTION" in
	start)
		if [ -d "$DATA" ]; then
			echo "already running? $DATA exists; run: $0 stop" >&2
			exit 1
		fi
		mkdir -p "$DATA"
		[ "$(id -u)" = "0" ] && chown postgres: "$DATA"
		as_server_user "$BIN/initdb" -D "$DATA/data" -U postgres --auth=trust -E UTF8 >/dev/null
		as_server_user "$BIN/pg_ctl" -D "$DATA/data" -l "$DATA/server.log" -w \
			-o "-p $PORT -c listen_addresses=127.0.0.1 -k $DATA" start >/dev/null
		echo "PostgreSQL is up. Run the sample against it with:"
		echo "  java -jar sample-service/target/reqctx-sample-service-0.1.0-SNAPSHOT.jar --spring.profiles.active=postgres --spring.datasource.url=jdbc:postgresql://127.0.0.1:$PORT/postgres"
		echo "and watch it with:  psql -h 127.0.0.1 -p $PORT -U postgres -c \"select pid, state, query from pg_stat_activity where query like '%pg_sleep%'\""
		;;
	stop)
		if [ -d "$DATA/data" ]; then
			as_server_user "$BIN/pg_ctl" -D "$DATA/data" -m immediate stop >/dev/null || true
		fi
		rm -rf "$DATA"
		echo "stopped"
		;;
	*)
		echo "usage: $0 start [port] | stop" >&2
		exit 2
		;;
esac
