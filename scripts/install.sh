#!/usr/bin/env bash
# Installs ota-ingest the way `make install` and `make deb` do:
#   scripts/install.sh BIN_DIR   (the folder holding the built ota-ingest, and ota-sandbox if wanted)
# Environment: PREFIX (default /usr/local), DESTDIR (default empty: the live system),
# SANDBOX=1 to install ota-sandbox too, STRIP=0 to keep the binaries' debug info.
# Puts the binaries in PREFIX/bin, the systemd units where systemd looks for them
# (/lib/systemd/system for PREFIX=/usr, else PREFIX/lib/systemd/system), the
# system user in sysusers.d, the man page, and the sample config in /etc/ota-ingest/
# (never over an existing one; the credentials folder is mode 0700).
set -euo pipefail
bin_dir=${1:?usage: scripts/install.sh BIN_DIR}
prefix=${PREFIX:-/usr/local}
dest=${DESTDIR:-}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$prefix" = /usr ]; then
    unit_dir=/lib/systemd/system
    sysusers_dir=/usr/lib/sysusers.d
else
    unit_dir=$prefix/lib/systemd/system
    # systemd-sysusers reads /usr/lib, /etc and /run only.
    sysusers_dir=/etc/sysusers.d
fi

install -d "$dest$prefix/bin" "$dest$unit_dir" "$dest$sysusers_dir" "$dest$prefix/share/man/man1" \
    "$dest/etc/ota-ingest"
install -d -m 0700 "$dest/etc/ota-ingest/credentials"
install -m 0755 "$bin_dir/ota-ingest" "$dest$prefix/bin/ota-ingest"
if [ "${SANDBOX:-}" = 1 ]; then install -m 0755 "$bin_dir/ota-sandbox" "$dest$prefix/bin/ota-sandbox"; fi
# Stripped as distributions ship binaries: the debug info and the AST lldb reads
# (.swift_ast) name the build folder and are never read at run time.
if [ "${STRIP:-1}" = 1 ]; then
    for binary in "$dest$prefix"/bin/ota-*; do strip --strip-all --remove-section=.swift_ast "$binary"; done
fi
for unit in ota-ingest.service ota-ingest.timer ota-ingest-serve.service; do
    sed "s|/usr/local/bin/ota-ingest|$prefix/bin/ota-ingest|g" "$root/contrib/$unit" >"$dest$unit_dir/$unit"
    chmod 0644 "$dest$unit_dir/$unit"
done
install -m 0644 "$root/contrib/ota-ingest.sysusers" "$dest$sysusers_dir/ota-ingest.conf"
gzip -9n <"$root/contrib/ota-ingest.1" >"$dest$prefix/share/man/man1/ota-ingest.1.gz"
# The alert rules (with their promtool unit tests) and the dashboard, for an operator to copy
# into Prometheus's and Grafana's folders: read only, never loaded from here.
install -d "$dest$prefix/share/ota-ingest/prometheus" "$dest$prefix/share/ota-ingest/grafana"
install -m 0644 "$root/contrib/prometheus/ota-ingest-alerts.yml" "$root/contrib/prometheus/ota-ingest-alerts.test.yml" \
    "$dest$prefix/share/ota-ingest/prometheus/"
install -m 0644 "$root/contrib/grafana/ota-ingest.json" "$dest$prefix/share/ota-ingest/grafana/"
for file in ota-ingest.toml ota-ingest.env; do
    if [ -e "$dest/etc/ota-ingest/$file" ]; then
        echo "kept /etc/ota-ingest/$file; the sample is $root/contrib/$file"
    else
        install -m 0644 "$root/contrib/$file" "$dest/etc/ota-ingest/$file"
    fi
done
