#!/usr/bin/env python3
"""Attack recall per class and false positives on the OWASP CRS regression set.

Usage: bench/attack_recall.py build/vigil [CRS_TESTS_DIR]
(default CRS_TESTS_DIR: ../shared/data/crs-regression/tests/regression/tests)

Converts the CRS tests into labelled log lines (tests/attacks/crs_to_log.py),
runs `vigil analyze --json` over each class's lines on their own, and prints
per class: the lines, those flagged with vigil's class of the same name (where
vigil has one), and those flagged as any attack. Then the benign lines flagged.

Until `analyze` writes its findings per request, the counts come from the
report's per-class hits: "any attack" is the largest class's hits (a lower
bound of the lines flagged), and for the benign set the sum over classes (an
upper bound).
"""

import collections
import json
import os
import subprocess
import sys
import tempfile

ATTACK_CLASSES = {"probe", "traversal", "sqli", "xss", "scanner"}


def analyze(vigil, log_path, report_path):
    subprocess.run([vigil, "analyze", "-f", "combined", "--no-progress", "--json", report_path, log_path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(report_path) as f:
        findings = json.load(f)["security"]["findings"]
    return {x["class"]: x["hits"] for x in findings}


def main():
    if len(sys.argv) < 2:
        print("usage: bench/attack_recall.py VIGIL [CRS_TESTS_DIR]", file=sys.stderr)
        return 2
    vigil = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    crs = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        here, "..", "..", "shared", "data", "crs-regression", "tests", "regression", "tests")
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
        by_class = collections.defaultdict(list)
        for line, label in zip(lines, labels):
            by_class[label["class"]].append(line)
        print("%-16s %6s %12s %12s" % ("class", "lines", "as its class", "as attack"))
        for cls in sorted(by_class):
            path = os.path.join(tmp, cls + ".log")
            with open(path, "w") as f:
                f.write("\n".join(by_class[cls]) + "\n")
            hits = analyze(vigil, path, os.path.join(tmp, cls + ".json"))
            n = len(by_class[cls])
            own = "%d (%.0f%%)" % (hits.get(cls, 0), 100.0 * hits.get(cls, 0) / n) if cls in ATTACK_CLASSES else "-"
            anyone = max([hits.get(c, 0) for c in ATTACK_CLASSES] + [0])
            print("%-16s %6d %12s %7d (%.0f%%)" % (cls, n, own, anyone, 100.0 * anyone / n))
        benign = os.path.join(tmp, "benign.log")
        with open(benign) as f:
            benign_lines = sum(1 for _ in f)
        hits = analyze(vigil, benign, os.path.join(tmp, "benign.json"))
        flagged = sum(hits.get(c, 0) for c in ATTACK_CLASSES)
        print("benign: %d lines, at most %d flagged as an attack (%.1f%%): %s" % (
            benign_lines, flagged, 100.0 * flagged / max(benign_lines, 1),
            ", ".join("%s %d" % (c, hits[c]) for c in sorted(hits) if c in ATTACK_CLASSES and hits[c]) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
