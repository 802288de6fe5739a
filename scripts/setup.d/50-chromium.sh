#!/usr/bin/env bash
# Debian's Chromium, for the test that renders report.html in a real browser.
# Best effort: without root or apt the browser test skips (it fails instead
# when FAK_REQUIRE_BROWSER=1, as CI sets).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${FAK_CHROMIUM:-}" ]; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "setup: installing Debian's chromium (for the report.html browser test)"
	if apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
		exit 0
	fi
fi
msg="setup: chromium not installed; the report.html browser test will skip"
if [ "${FAK_REQUIRE_BROWSER:-}" = 1 ]; then
	echo "$msg, but FAK_REQUIRE_BROWSER=1" >&2
	exit 1
fi
echo "$msg" >&2
