#!/usr/bin/env bash
# Shows that each check of lint-architecture.py fails on a deliberate violation: copies
# Sources/ and sql/ to a scratch folder, breaks one rule at a time, and expects the
# check to name the file. Usage: scripts/lint-architecture-selftest.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/scripts"
cp "$here/scripts/lint-architecture.py" "$scratch/scripts/"
failed=0

# expect CHECK FILE TEXT: with TEXT appended to FILE (created if absent), CHECK must fail naming FILE.
expect() {
    local check="$1" file="$2" text="$3"
    rm -rf "$scratch/Sources" "$scratch/sql"
    cp -R "$here/Sources" "$here/sql" "$scratch/"
    mkdir -p "$(dirname "$scratch/$file")"
    printf '%s\n' "$text" >>"$scratch/$file"
    if output="$(python3 "$scratch/scripts/lint-architecture.py" "$check" 2>&1)"; then
        echo "FAIL $check: passed with a violation in $file"
        failed=1
    elif grep -q "^$file:" <<<"$output"; then
        echo "ok   $check: $(grep "^$file:" <<<"$output" | head -1)"
    else
        echo "FAIL $check: failed, but not on $file:"
        echo "$output"
        failed=1
    fi
}

expect imports Sources/OTASandbox/LintViolation.swift 'import PostgresClient'
expect runs-writer Sources/OTAIngest/LintViolation.swift 'let sql = "update ops.runs set status = '"'"'failed'"'"' where run_id = $1"'
expect runs-writer sql/transforms/99_lint_violation.sql 'insert into ops.runs (run_id, command) values ('"'"'x'"'"', '"'"'y'"'"');'
expect clock Sources/Receiver/LintViolation.swift 'func stamp() -> Date { Date() }'
expect connections Sources/OTAIngest/LintViolation.swift 'final class Holder { let c: PostgresConnection; init(c: PostgresConnection) { self.c = c }
    deinit { let c = self.c; Task { await c.close() } } }'
expect connections Sources/Receiver/LintViolation.swift 'func leave(_ c: PostgresConnection) { Task.detached { await c.close() } }'
expect connections Sources/OTAIngest/LintViolation.swift 'func leave(_ c: PostgresConnection) {
    Task { await c.close() }
}'
expect run-scope Sources/OTAIngest/LintViolation.swift 'func go(_ c: PostgresConnection) async throws { _ = try await RunLedger.start(command: "x", on: c) }'
expect connectors Sources/OTAIngest/Connectors/CursorFeed/LintViolation.swift 'func borrow(_ client: WebHotelierClient) {}'
exit $failed
