#!/usr/bin/env python3
"""Attack recall per class and false positives on the OWASP CRS regression set.

Usage: bench/attack_recall.py build/vigil [CRS_TESTS_DIR] [--misses N]
(default CRS_TESTS_DIR: ../shared/data/crs-regression/tests/regression/tests)

Converts the CRS tests into labelled log lines (tests/attacks/crs_to_log.py),
runs `vigil analyze --attacks` over them and joins its per-request findings
with the labels by line number. Prints per class: the lines, those flagged
with vigil's class of the same name (where vigil has one), and those flagged
as any attack; then the benign lines flagged, by class, with a few examples;
with --misses N, up to N attack lines of each class that were not flagged as it.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

ATTACK_CLASSES = {"probe", "traversal", "sqli", "xss", "rfi", "cmdi", "code", "crlf", "ldap", "shellshock",
                  "scanner", "badbot", "bad_request"}


def flagged(vigil, log_path):
    """Line number -> the attack classes `vigil analyze --attacks` gave it."""
    out = subprocess.run([vigil, "analyze", "-f", "combined", "--no-progress", "--attacks", "-", log_path],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    found = {}
    for line in out.splitlines():
        record = json.loads(line)
        found[record["line"]] = {a["class"] for a in record["attacks"]}
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Attack recall per class and false positives on the CRS set.")
    parser.add_argument("vigil", help="the vigil binary")
    parser.add_argument("crs", nargs="?", help="the CRS regression tests directory",
                        default=os.path.join(here, "..", "..", "shared", "data", "crs-regression", "tests",
                                             "regression", "tests"))
    parser.add_argument("--misses", type=int, default=0, metavar="N",
                        help="list up to N attack lines of each class not flagged as it")
    args = parser.parse_args()
    vigil, crs, misses = args.vigil, args.crs, args.misses
    if not os.path.isdir(crs):
        print("no CRS regression tests at %s: nothing measured" % crs, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(here, "..", "tests", "attacks", "crs_to_log.py"), crs, tmp],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(tmp, "attacks.log")) as f:
            lines = f.read().splitlines()
        with open(os.path.join(tmp, "attacks.labels.jsonl")) as f:
            labels = [json.loads(x) for x in f]
        found = flagged(vigil, os.path.join(tmp, "attacks.log"))
        lines_of = collections.Counter(label["class"] for label in labels)
        as_own, as_any = collections.Counter(), collections.Counter()
        for label in labels:
            classes = found.get(label["line"], set())
            as_own[label["class"]] += label["class"] in classes
            as_any[label["class"]] += bool(classes)
        print("%-16s %6s %14s %14s" % ("class", "lines", "as its class", "as attack"))
        for cls in sorted(lines_of):
            n = lines_of[cls]
            own = "%d (%.0f%%)" % (as_own[cls], 100.0 * as_own[cls] / n) if cls in ATTACK_CLASSES else "-"
            print("%-16s %6d %14s %7d (%.0f%%)" % (cls, n, own, as_any[cls], 100.0 * as_any[cls] / n))
        total = len(labels)
        print("%-16s %6d %14s %7d (%.0f%%)" % ("all", total, "", sum(as_any.values()),
                                             100.0 * sum(as_any.values()) / max(total, 1)))
        if misses:
            missed = collections.defaultdict(list)
            for label in labels:
                if label["class"] in ATTACK_CLASSES and label["class"] not in found.get(label["line"], set()):
                    missed[label["class"]].append(label["line"])
            for cls in sorted(missed):
                print("missed %s (%d):" % (cls, len(missed[cls])))
                for n in missed[cls][:misses]:
                    print("  %s" % lines[n - 1][:200])
        benign_path = os.path.join(tmp, "benign.log")
        with open(benign_path) as f:
            benign_lines = f.read().splitlines()
        wrong = flagged(vigil, benign_path)
        by = collections.Counter(c for classes in wrong.values() for c in classes)
        print("benign: %d lines, %d flagged as an attack (%.1f%%): %s" % (
            len(benign_lines), len(wrong), 100.0 * len(wrong) / max(len(benign_lines), 1),
            ", ".join("%s %d" % (c, n) for c, n in sorted(by.items())) or "none"))
        for n in sorted(wrong)[:10]:
            print("  %s: %s" % (",".join(sorted(wrong[n])), benign_lines[n - 1][:160]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
