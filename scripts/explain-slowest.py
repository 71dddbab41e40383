#!/usr/bin/env python3
"""Where a SQL script's time goes, statement by statement, with EXPLAIN ANALYZE.

  explain-slowest.py script FILE...   prints a psql script that runs FILE... in order,
                                      each statement EXPLAIN can take run under
                                      EXPLAIN ANALYZE (and run plainly when EXPLAIN
                                      refuses it), in one transaction rolled back
  explain-slowest.py report OUTPUT    from psql's output of that script: every
                                      statement's execution time, slowest first, and
                                      the slowest one's statement and plan

Used by scripts/bench-transform.sh (EXPLAIN_SLOWEST=1) to show where a promotion's
time goes, on one server or on a Citus cluster. The files are split at semicolons
outside quotes and comments (sql/transforms and sql/checks hold no dollar-quoted
bodies).
"""
import re
import sys

EXPLAINABLE = re.compile(
    r"^(select|insert|update|delete|with|create\s+(temp|temporary)\s+table\s+\S+(\s+on\s+commit\s+drop)?\s+as)\b",
    re.IGNORECASE)


def statements(text):
    out, current, i, quote, comment = [], [], 0, False, False
    while i < len(text):
        c = text[i]
        if comment:
            if c == "\n":
                comment = False
            current.append(c)
        elif quote:
            current.append(c)
            if c == "'":
                quote = False
        elif c == "-" and text[i:i + 2] == "--":
            comment = True
            current.append(c)
        elif c == "'":
            quote = True
            current.append(c)
        elif c == ";":
            out.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    if "".join(current).strip():
        out.append("".join(current).strip())
    return [s for s in out if code(s)]


def code(statement):
    """The statement without its comment lines."""
    return "\n".join(l for l in statement.splitlines() if not l.strip().startswith("--")).strip()


def script(files):
    print("\\set ON_ERROR_STOP off")
    print("\\set ON_ERROR_ROLLBACK on")
    print("\\pset pager off")
    print("\\pset format unaligned")
    print("\\pset tuples_only on")
    print("begin;")
    for path in files:
        name = path.rsplit("/", 1)[-1]
        for n, statement in enumerate(statements(open(path).read()), 1):
            body = code(statement)
            print(f"\\echo '==== {name} #{n}: {' '.join(body.split())[:100].replace(chr(39), '')}'")
            if EXPLAINABLE.match(body):
                print(f"explain (analyze, costs off) {body};")
                print("\\if :ERROR")
                print(f"{body};")
                print("\\endif")
            else:
                print(f"{body};")
    print("rollback;")


def report(path):
    blocks, current = [], None
    for line in open(path, errors="replace"):
        if line.startswith("==== "):
            current = [line[5:].rstrip(), [], None]
            blocks.append(current)
        elif current is not None:
            current[1].append(line.rstrip("\n"))
            # The statement's own is the largest: a Citus plan shows its subplans' too.
            m = re.search(r"Execution Time: ([0-9.]+) ms", line)
            if m:
                current[2] = max(current[2] or 0, float(m.group(1)))
    timed = sorted((b for b in blocks if b[2] is not None), key=lambda b: -b[2])
    total = sum(b[2] for b in timed)
    print(f"statements under EXPLAIN ANALYZE: {len(timed)} of {len(blocks)}, {total / 1000:.2f} s together; slowest first:")
    for name, _, ms in timed[:10]:
        print(f"  {ms / 1000:8.2f} s  {100 * ms / total if total else 0:5.1f}%  {name}")
    if timed:
        name, lines, ms = timed[0]
        print(f"\nthe slowest, {name}:")
        print("\n".join(lines).strip("\n"))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "script":
        script(sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        sys.exit(__doc__)
