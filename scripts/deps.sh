#!/usr/bin/env bash
# Installs the Debian packages the build and the throwaway database need, only
# those that are missing, with one `apt-get update` first.
set -euo pipefail
# systemd: systemd-analyze, which the tests run over the units; binutils: strip,
# for the installed-binary test's copy.
# prometheus (promtool) and prometheus-node-exporter: the monitoring tests run the real ones;
# chromium: the report test opens the report in a real (headless) browser.
want=(libpq-dev libcurl4-openssl-dev postgresql pkg-config curl systemd binutils prometheus prometheus-node-exporter chromium)
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing missing packages: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
