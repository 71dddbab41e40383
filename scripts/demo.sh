#!/usr/bin/env bash
# The main job against the throwaway database: called by `make demo` with the
# release binaries' directory and DATABASE_URL set.
set -euo pipefail
BIN=${1:?usage: scripts/demo.sh BIN_DIR}

echo "== ota-ingest migrate"
"$BIN/ota-ingest" migrate
