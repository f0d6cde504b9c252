#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed for the live view's browser test
# (LiveViewBrowserTests), which runs it as a process against a real server. Safe to run
# again: it installs only when no chromium binary is found.
set -euo pipefail

# The browser the tests will run: REQCTX_CHROMIUM if set, else chromium on the PATH.
find_chromium() {
	if [[ -n "${REQCTX_CHROMIUM:-}" ]]; then
		[[ -x "$REQCTX_CHROMIUM" ]] && echo "$REQCTX_CHROMIUM"
		return 0
	fi
	command -v chromium 2>/dev/null || true
}

# Without any font a page renders no text at all; DejaVu is small and in every Debian.
needs_fonts() {
	[[ -z "$(find /usr/share/fonts /usr/local/share/fonts \( -name '*.ttf' -o -name '*.otf' \) 2>/dev/null | head -n 1)" ]]
}

chromium="$(find_chromium)"
if [[ -z "$chromium" ]] || needs_fonts; then
	if [[ -n "${REQCTX_CHROMIUM:-}" && -z "$chromium" ]]; then
		echo "install-chromium: REQCTX_CHROMIUM=$REQCTX_CHROMIUM is not an executable" >&2
		exit 1
	fi
	packages=()
	[[ -z "$chromium" ]] && packages+=(chromium)
	needs_fonts && packages+=(fonts-dejavu-core)
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "install-chromium: missing ${packages[*]}. Install with:" >&2
		echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages[*]}" >&2
		exit 1
	fi
	echo "install-chromium: installing ${packages[*]} from Debian's packages"
	apt-get -o DPkg::Lock::Timeout=600 update
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${packages[@]}" </dev/null
	chromium="$(find_chromium)"
	if [[ -z "$chromium" ]]; then
		echo "install-chromium: installed the chromium package but found no chromium on the PATH" >&2
		exit 1
	fi
fi

echo "install-chromium: found $("$chromium" --version 2>/dev/null | head -n 1) at $chromium"
