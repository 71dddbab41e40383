#!/usr/bin/env bash
# Builds and installs Citus (distributed PostgreSQL, an extension) for the
# server that pg_config names, unless citus.so is already installed there.
#
#   CITUS_SRC=/path/to/citus-X.Y.Z.tar.gz scripts/citus.sh
#
# CITUS_SRC defaults to ../shared/citus/citus-13.2.2.tar.gz beside the
# checkout (the directory above the one holding this project); a relative
# CITUS_SRC is taken from the directory `make` was started in. Any *.patch
# file beside the tarball is applied with `patch -p1` inside the unpacked
# tree (pg15-minor-compat.patch: one guard for PostgreSQL 15.20's headers).
#
# The Debian build packages are installed first (one apt-get update, only when
# one is missing). Installing postgresql-server-dev-15 can upgrade the server
# packages, so run this before any server starts (.ci/run does).
#
# In production, install Citus from its own packages; nothing in ota-ingest
# depends on how it got there.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

want=(postgresql-server-dev-15 libkrb5-dev liblz4-dev libzstd-dev make gcc patch)
missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "citus.sh: installing build packages: ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sort -V | tail -1 || true)}
[ -x "${PG_CONFIG:-}" ] || PG_CONFIG=$(command -v pg_config || true)
if [ -z "$PG_CONFIG" ]; then
    echo "citus.sh: no pg_config; fix: apt-get install postgresql-server-dev-15" >&2
    exit 1
fi
libdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
if [ -f "$libdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ]; then
    echo "citus.sh: Citus already installed for $("$PG_CONFIG" --version) ($libdir/citus.so)"
    exit 0
fi

# The default: ../shared/citus/ beside this checkout, else beside the checkout it
# was cloned from (a CI clone lives elsewhere), else beside the main worktree.
default_src() {
    local base origin common
    for base in "$(dirname "$ROOT")" \
        "$(origin=$(git -C "$ROOT" config --get remote.origin.url 2>/dev/null || true); [ -d "$origin" ] && dirname "$(cd "$origin" && pwd)")" \
        "$(common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true); [ -n "$common" ] && dirname "$(dirname "$common")")"; do
        [ -n "$base" ] && [ -f "$base/shared/citus/citus-13.2.2.tar.gz" ] && { echo "$base/shared/citus/citus-13.2.2.tar.gz"; return; }
    done
    echo "$(dirname "$ROOT")/shared/citus/citus-13.2.2.tar.gz"
}
src=${CITUS_SRC:-$(default_src)}
case "$src" in
    /*) ;;
    *) src="${CITUS_CALLER_DIR:-$PWD}/$src" ;;
esac
if [ ! -f "$src" ]; then
    echo "citus.sh: no Citus source tarball at $src; fix: set CITUS_SRC to citus-13.2.2.tar.gz (absolute, or relative to where make runs)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/ota-citus-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
tar -xzf "$src" -C "$work"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
for p in "$(dirname "$src")"/*.patch; do
    [ -f "$p" ] || continue
    echo "citus.sh: applying $(basename "$p")"
    (cd "$tree" && patch -p1 -s <"$p")
done
# libcurl is only for Citus's own usage statistics; the JIT bitcode (with_llvm)
# doubles the compile time and the server does not need it to run Citus.
(cd "$tree" && ./configure -q --without-libcurl PG_CONFIG="$PG_CONFIG" >"$work/configure.log" 2>&1) || {
    tail -30 "$work/configure.log" >&2
    echo "citus.sh: configure failed (log above)" >&2
    exit 1
}
jobs=$(nproc 2>/dev/null || echo 2)
(cd "$tree" && make -s -j"$jobs" with_llvm=no >"$work/make.log" 2>&1) || {
    tail -40 "$work/make.log" >&2
    echo "citus.sh: build failed (log above)" >&2
    exit 1
}
if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
(cd "$tree" && "${sudo[@]}" make -s install with_llvm=no >"$work/install.log" 2>&1) || {
    tail -30 "$work/install.log" >&2
    echo "citus.sh: install failed (log above)" >&2
    exit 1
}
echo "citus.sh: Citus built and installed for $("$PG_CONFIG" --version) in $(($(date +%s) - start)) s"
