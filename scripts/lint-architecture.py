#!/usr/bin/env python3
"""The architecture's rules, checked over Sources/ and sql/ (part of `make lint`).

Target dependencies in Package.swift make most wrong imports a compile error; these
checks cover what the compiler lets through:

  imports      a module imports one it must not (SwiftPM lets a target import its
               dependencies' dependencies, and the sandbox must share no code at all)
  runs-writer  SQL that inserts into or updates ops.runs outside the run core
  clock        Date() or Date.now outside the clock (every other reader takes the injected clock)
  connections  a connection closed in a deinit, a detached Task or a fire-and-forget Task
  run-scope    a run started without the run scope (the ledger's start called elsewhere)
  connectors   one connector's folder names a type another connector's folder declares
               (a connector is a plug-in: it stands on the core and the shared parts only)

Usage: lint-architecture.py [CHECK ...]   (no names: every check). Exit status 1 on a
violation, each printed as path:line: check: what is wrong; fix: what to do.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --- The structure the checks hold the code to -------------------------------------------

# Modules that must not import these (beyond what Package.swift already forbids).
LOW_LEVEL = ["DedicatedThread", "JSONSyntax", "PostgresClient", "HTTPClient", "WarehouseSQL"]
FEATURES = ["OTAIngest", "Receiver"]
CORE = ["IngestCore"]
FORBIDDEN_IMPORTS = {
    # The local OTA shares no code with the client side: a misreading of the API must not
    # hide on both sides at once.
    "OTASandbox": LOW_LEVEL + CORE + FEATURES,
    "ota-sandbox": LOW_LEVEL + CORE + FEATURES,
    # Libraries below everything know nothing above them.
    **{name: CORE + FEATURES + ["OTASandbox"] for name in LOW_LEVEL},
    # The core stands under the features; the compiler keeps the direction, this names it.
    "IngestCore": FEATURES + ["OTASandbox"],
    # Batch code stays free of the receiver (and Hummingbird with it).
    "OTAIngest": ["Receiver", "OTASandbox", "Hummingbird", "ServiceLifecycle"],
    "Receiver": ["OTASandbox"],
}

# Where ops.runs may be written, and where a run may be started: the run core.
RUN_CORE = ["Sources/IngestCore/Run/"]
RUN_START = re.compile(r"\bRunLedger\s*\.\s*start\s*\(")
# Migrations change the table itself (a new column filled from an old one), once per warehouse.
RUNS_WRITER_EXEMPT = ["sql/migrations/"]
# Where the wall clock may be read.
CLOCK = ["Sources/IngestCore/Time/WallClock.swift"]
# Targets with a world of their own (the simulated OTA), or tools outside the pipeline.
CLOCK_EXEMPT = ["Sources/OTASandbox/", "Sources/ota-sandbox/", "Sources/ota-bench/", "Sources/embed-sql/"]
# One folder per connector (dialect) below this one.
CONNECTORS = "Sources/OTAIngest/Connectors/"
# The wrappers own the C handles; their deinit frees a handle nobody can use any more.
HANDLE_OWNERS = ["Sources/PostgresClient/", "Sources/HTTPClient/"]


# --- Reading Swift -----------------------------------------------------------------------

def strip_swift(text, keep_strings):
    """Comments blanked (and string literals too unless keep_strings), newlines kept,
    so offsets still give line numbers."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"' or (c == "#" and re.match(r'#+"', text[i:])):
            hashes = re.match(r"#*", text[i:]).group(0)
            start = i + len(hashes)
            multi = text.startswith('"""', start)
            quote = '"""' if multi else '"'
            close = quote + hashes
            j = start + len(quote)
            while j < n and not text.startswith(close, j):
                if text[j] == "\\" and not hashes:
                    j += 1
                j += 1
            j = min(n, j + len(close))
            literal = text[i:j]
            out.append(literal if keep_strings else re.sub(r"[^\n]", " ", literal))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def block_after(text, brace):
    """The text of the {...} block opening at index `brace`."""
    depth = 0
    for j in range(brace, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[brace:j + 1]
    return text[brace:]


def swift_files():
    for base, dirs, files in os.walk(os.path.join(ROOT, "Sources")):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".swift"):
                path = os.path.join(base, name)
                yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()


def sql_files():
    for base, dirs, files in os.walk(os.path.join(ROOT, "sql")):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".sql"):
                path = os.path.join(base, name)
                yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()


def module_of(path):
    parts = path.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "Sources" else None


def under(path, prefixes):
    return any(path.startswith(prefix) for prefix in prefixes)


# --- The checks --------------------------------------------------------------------------

def check_imports():
    for path, text in swift_files():
        forbidden = FORBIDDEN_IMPORTS.get(module_of(path), [])
        code = strip_swift(text, keep_strings=False)
        for match in re.finditer(r"^[ \t]*(?:@\w+(?:\([^)]*\))?[ \t]+)*import[ \t]+(?:(?:typealias|struct|class|enum|protocol|let|var|func)[ \t]+)?(\w+)", code, re.M):
            if match.group(1) in forbidden:
                yield (path, line_of(code, match.start()),
                       f"{module_of(path)} imports {match.group(1)}; fix: move what it needs below both modules")


RUNS_WRITE = re.compile(r"\b(insert\s+into|update)\s+ops\s*\.\s*runs\b", re.I)


def check_runs_writer():
    sources = [(path, strip_swift(text, keep_strings=True)) for path, text in swift_files()]
    sources += [(path, re.sub(r"--[^\n]*", "", text)) for path, text in sql_files()]
    for path, code in sources:
        if under(path, RUN_CORE) or under(path, RUNS_WRITER_EXEMPT):
            continue
        for match in RUNS_WRITE.finditer(code):
            yield (path, line_of(code, match.start()),
                   f"writes ops.runs ({match.group(1).lower()}); fix: record the run through the run scope in {RUN_CORE[0]}")


def check_clock():
    for path, text in swift_files():
        if under(path, CLOCK) or under(path, CLOCK_EXEMPT):
            continue
        code = strip_swift(text, keep_strings=False)
        for match in re.finditer(r"(?<![\w.])Date\s*\(\s*\)|(?<![\w.])Date\s*\.\s*now\b", code):
            yield (path, line_of(code, match.start()),
                   "reads the wall clock; fix: take the injected clock (its now()) so --now and tests pin it")


TASK_OPEN = re.compile(r"\bTask(\s*\.\s*detached)?\s*(\([^()]*\))?\s*\{")
CLOSES = re.compile(r"\.\s*close\s*\(\s*\)|\bPQfinish\s*\(|\bcurl_easy_cleanup\s*\(")


def check_connections():
    for path, text in swift_files():
        code = strip_swift(text, keep_strings=False)
        if not under(path, HANDLE_OWNERS):
            for match in re.finditer(r"\bdeinit\s*\{", code):
                if CLOSES.search(block_after(code, match.end() - 1)):
                    yield (path, line_of(code, match.start()),
                           "closes a connection in deinit; fix: close it by scope (withConnection) on every path")
        for match in TASK_OPEN.finditer(code):
            if not CLOSES.search(block_after(code, match.end() - 1)):
                continue
            before = code[:match.start()].rstrip()
            stored = before.endswith("=") or before.endswith("return")
            if match.group(1) or not stored:
                kind = "a detached Task" if match.group(1) else "a Task nobody awaits"
                yield (path, line_of(code, match.start()),
                       f"closes a connection in {kind}; fix: close it by scope (withConnection) on every path")


def check_run_scope():
    for path, text in swift_files():
        if under(path, RUN_CORE):
            continue
        code = strip_swift(text, keep_strings=False)
        for match in RUN_START.finditer(code):
            yield (path, line_of(code, match.start()),
                   "starts a run without the run scope; fix: run the command inside RunScope.run")


# Top-level declarations only: a nested `Refusal` is its parent's, not a name of the folder.
DECLARES = re.compile(
    r"^(?:(?:public|package|internal|fileprivate|private|final|indirect|@\w+)\s+)*"
    r"(?:struct|class|enum|actor|protocol|typealias)\s+(\w+)", re.M)


def check_connectors():
    folders = {}
    for path, text in swift_files():
        if path.startswith(CONNECTORS) and path.count("/") > CONNECTORS.count("/"):
            folder = path[len(CONNECTORS):].split("/")[0]
            folders.setdefault(folder, []).append((path, strip_swift(text, keep_strings=False)))
    declared = {folder: {name for _, code in files for name in DECLARES.findall(code)}
                for folder, files in folders.items()}
    for folder, files in folders.items():
        foreign = {name: other for other, names in declared.items() if other != folder for name in names}
        if not foreign:
            continue
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(foreign))) + r")\b")
        for path, code in files:
            for match in pattern.finditer(code):
                yield (path, line_of(code, match.start()),
                       f"names {match.group(1)} of connector {foreign[match.group(1)]}; "
                       "fix: move what both need below the connectors (Connectors/ or the core)")


CHECKS = {
    "imports": check_imports,
    "runs-writer": check_runs_writer,
    "clock": check_clock,
    "connections": check_connections,
    "run-scope": check_run_scope,
    "connectors": check_connectors,
}


def main(names):
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        sys.exit(f"lint-architecture: unknown check {', '.join(unknown)}; fix: use {', '.join(CHECKS)}")
    failures = 0
    for name in names or list(CHECKS):
        for path, line, message in CHECKS[name]():
            print(f"{path}:{line}: {name}: {message}")
            failures += 1
    if failures:
        print(f"lint-architecture: {failures} violation(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
