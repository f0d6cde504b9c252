#!/usr/bin/env bash
# Installs what the load scripts in this folder need and a fresh machine may lack: wrk (the
# HTTP load generator), taskset and curl. Idempotent: does nothing when they are all there.
# PostgreSQL, for cancel-latency.sh and pool-storm.sh, comes from scripts/install-postgres.sh.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-tools: wrk, taskset and curl are installed"
	exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
	"${sudo[@]}" apt-get update
	"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "install-tools: installed ${missing[*]}"
