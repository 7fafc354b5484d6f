#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those missing. Needs root (as in CI) or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# chromium only Recommends fonts and a bare container may have none; the browser test selects text by where it is drawn.
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list 2>/dev/null)" ]; } || need+=(fontconfig fonts-dejavu-core)
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
