#!/usr/bin/env bash
# Builds the Debian package with dpkg-deb alone:
#   scripts/deb.sh BIN_DIR [OUT_DIR]   -> OUT_DIR/ota-ingest_VERSION_ARCH.deb (default OUT_DIR: .)
# BIN_DIR holds the built ota-ingest (make deb: the release build, Swift runtime
# linked statically, so the package depends only on libpq5 and libcurl4).
# DEB_COMPRESSION=gzip|xz|none (default xz). CHECK_BUILD_PATHS=1 (make deb) refuses a
# binary that still names its build folder, e.g. built without the Makefile's prefix maps.
set -euo pipefail
bin_dir=$(cd "${1:?usage: scripts/deb.sh BIN_DIR [OUT_DIR]}" && pwd)
out_dir=${2:-.}
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$bin_dir/ota-ingest" --version | awk 'NR == 1 { print $2 }')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

DESTDIR=$stage PREFIX=/usr bash "$root/scripts/install.sh" "$bin_dir" >/dev/null
if [ "${CHECK_BUILD_PATHS:-}" = 1 ] && grep -aqF '/.build/' "$stage/usr/bin/ota-ingest"; then
    echo "deb: ota-ingest names its build folder (strings | grep /.build/); fix: build it with make deb (RELEASE's prefix maps)" >&2
    exit 1
fi
install -d "$stage/DEBIAN" "$stage/usr/share/doc/ota-ingest"
install -m 0755 "$root/packaging/debian/postinst" "$root/packaging/debian/prerm" "$root/packaging/debian/postrm" \
    "$stage/DEBIAN/"
for doc in operations.md configuration.md; do
    [ -e "$root/docs/$doc" ] && install -m 0644 "$root/docs/$doc" "$stage/usr/share/doc/ota-ingest/"
done
# dpkg keeps an administrator's edits to these across upgrades.
printf '%s\n' /etc/ota-ingest/ota-ingest.toml /etc/ota-ingest/ota-ingest.env >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: ota-ingest
Version: $version
Architecture: $arch
Maintainer: ota-ingest maintainers <ota-ingest@localhost>
Depends: libpq5, libcurl4
Section: database
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: keeps a PostgreSQL warehouse of hotel rates and bookings in step with OTAs
 ota-ingest pulls rates, availability and reservations from OTAs (WebHotelier
 and cursor feeds), receives their webhooks, and keeps a versioned PostgreSQL
 warehouse with reconciliation, feeds and exports. One binary with its SQL
 compiled in; systemd units for the nightly batch and the webhook receiver.
CONTROL
mkdir -p "$out_dir"
deb="$out_dir/ota-ingest_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$stage" "$deb" >/dev/null
echo "$deb"
