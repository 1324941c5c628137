#!/usr/bin/env python3
"""Summarises a ctest JUnit report and enforces the expected-failure list.

  ctest-summary.py JUNIT_XML EXPECTED_FAILURES_TXT

Prints one line per group (native, unit, sandbox(<platform>), integration,
other) with its pass count and failing tests, then the unexpected failures
and unexpected passes. Exits 1 when a test failed that is not listed in
EXPECTED_FAILURES_TXT, 0 otherwise. Only sandboxed and integration tests may
be listed there: a native or unit failure is always a real failure.

The list has one test per line, "<ctest name> <reason...>"; blank lines and
lines starting with # are ignored. A line without a reason is an error, so
no failure is excused without one.
"""
import re
import sys
import xml.etree.ElementTree as ET

LISTABLE = re.compile(r"^(syscalls\.sandbox\.[\w-]+\.\w+|integration\.[\w.-]+)$")


def load_expected(path):
    expected, errors = {}, []
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            if not reason.strip():
                errors.append(f"{path}:{lineno}: '{name}' has no reason")
            elif not LISTABLE.match(name):
                errors.append(f"{path}:{lineno}: '{name}' may not be listed: only sandboxed "
                              "and integration tests can be expected to fail")
            else:
                expected[name] = reason.strip()
    return expected, errors


def group_of(name):
    m = re.match(r"^syscalls\.sandbox\.([\w-]+)\.", name)
    if m:
        return f"sandbox({m.group(1)})"
    for prefix in ("syscalls.native.", "unit.", "integration."):
        if name.startswith(prefix):
            return prefix.split(".")[-2] if prefix != "syscalls.native." else "native"
    return "other"


def main(junit_path, expected_path):
    expected, errors = load_expected(expected_path)
    for e in errors:
        print(e)
    results = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        status = case.get("status", "")
        results[case.get("name")] = {"run": "pass", "fail": "fail"}.get(status, "skip")
    if not results:
        print("ctest-summary: no tests in the report")
        return 1

    groups = {}
    for name, outcome in sorted(results.items()):
        groups.setdefault(group_of(name), []).append((name, outcome))
    order = ["native", "unit"] + sorted(g for g in groups if g.startswith("sandbox(")) + \
        ["integration", "other"]
    print()
    print("==== test summary ====")
    for g in order:
        if g not in groups:
            continue
        cases = groups[g]
        ran = [c for c in cases if c[1] != "skip"]
        passed = [n for n, o in cases if o == "pass"]
        failing = [n.split(".")[-1] if g.startswith("sandbox(") else n
                   for n, o in cases if o == "fail"]
        skipped = len(cases) - len(ran)
        line = f"{g}: {len(passed)}/{len(ran)} passed"
        if skipped:
            line += f" ({skipped} skipped)"
        if failing:
            line += "; failing: " + " ".join(failing)
        print(line)

    unexpected_fail = [n for n, o in results.items() if o == "fail" and n not in expected]
    unexpected_pass = [n for n, o in results.items() if o == "pass" and n in expected]
    stale = [n for n in expected if n not in results]
    expected_fail = [n for n, o in results.items() if o == "fail" and n in expected]
    print(f"expected failures (tests/syscalls/sandbox_expected_failures.txt): "
          f"{len(expected_fail)} still failing")
    if unexpected_pass:
        print("unexpected passes (remove them from the list): " + " ".join(sorted(unexpected_pass)))
    if stale:
        print("listed but not run (remove or fix the name): " + " ".join(sorted(stale)))
    if unexpected_fail:
        print("UNEXPECTED FAILURES: " + " ".join(sorted(unexpected_fail)))
    if unexpected_fail or errors:
        print("result: FAIL")
        return 1
    print("result: OK (no unexpected failures)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
