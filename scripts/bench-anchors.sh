#!/usr/bin/env bash
# `make bench-anchors`: the anchors `make bench` runs beside ota-ingest, installed from PyPI
# into a virtual environment of their own (.local/anchors-venv, never committed):
#   dbt-postgres                    dbt snapshot, beside the transform's first load and changes
#   dlt[postgres]                   dlt reading the cursor feed, beside pull (scripts/anchors/dlt-pull)
#   fastapi, uvicorn[standard], pydantic, psycopg[binary,pool]
#                                   the durable FastAPI receiver (scripts/anchors/fastapi-receiver)
# Without it `make bench` runs and says which anchors it skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${ANCHORS_VENV:-$PWD/.local/anchors-venv}
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# dbt-core 1.12 fetches a parser wheel from GitHub at install time, which fails offline from
# GitHub; 1.11 installs from PyPI alone.
"$VENV/bin/pip" install -q 'dbt-core<1.12' dbt-postgres 'dlt[postgres]' fastapi 'uvicorn[standard]' pydantic 'psycopg[binary,pool]'
echo "anchors installed in $VENV:"
"$VENV/bin/pip" list 2>/dev/null | grep -iE '^(dbt-core|dbt-postgres|dlt|fastapi|uvicorn|pydantic|psycopg|uvloop|httptools) '
