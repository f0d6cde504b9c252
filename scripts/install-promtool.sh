#!/usr/bin/env bash
# Makes sure Prometheus's promtool is installed for the monitoring tests (MonitoringTests),
# which check the alerting rules and run their unit tests with it. Debian's prometheus package
# ships /usr/bin/promtool; only the tool is wanted, never a running Prometheus server.
# Safe to run again: it installs only when promtool is not on the PATH.
set -euo pipefail

if command -v promtool >/dev/null; then
	echo "install-promtool: found $(promtool --version 2>&1 | head -n 1) at $(command -v promtool)"
	exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
	echo "install-promtool: promtool is not installed. Install it with:" >&2
	echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus" >&2
	echo "and stop the server the package starts: sudo systemctl disable --now prometheus" >&2
	exit 1
fi

echo "install-promtool: installing promtool from Debian's prometheus package"
# The package's maintainer scripts start the server (port 9090) through invoke-rc.d or
# deb-systemd-invoke, both of which ask /usr/sbin/policy-rc.d first: exit code 101 forbids it.
# Containers often have such a file already; otherwise put one in place for the install only.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e "$policy" ]]; then
	printf '#!/bin/sh\n# install-promtool.sh: no service starts during this install.\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	own_policy=true
fi
remove_policy() {
	if [[ "$own_policy" == true ]]; then
		rm -f "$policy"
	fi
}
trap remove_policy EXIT

# Only refresh the package lists when apt knows no candidate for the package yet.
candidate="$(apt-cache policy prometheus 2>/dev/null || true)"
if [[ "$candidate" != *"Candidate: "[0-9]* ]]; then
	apt-get update
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus </dev/null

# The package still enables its systemd unit, so the server would start at the next boot:
# disable it (systemctl edits the unit links without a running systemd too), and stop it in
# case something let it start anyway.
if command -v systemctl >/dev/null; then
	systemctl disable prometheus.service >/dev/null 2>&1 || true
	if [[ -d /run/systemd/system ]]; then
		systemctl stop prometheus.service >/dev/null 2>&1 || true
	fi
fi
if [[ ! -d /run/systemd/system && -x /etc/init.d/prometheus ]]; then
	/etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi

if ! command -v promtool >/dev/null; then
	echo "install-promtool: installed the prometheus package but promtool is not on the PATH" >&2
	exit 1
fi
echo "install-promtool: found $(promtool --version 2>&1 | head -n 1) at $(command -v promtool)"
