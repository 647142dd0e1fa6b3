#!/usr/bin/env python3
"""Attack recall per class and false positives on the OWASP CRS regression set.

Usage: bench/attack_recall.py build/vigil [CRS_TESTS_DIR] [--misses N]
                              [--judge build/bench/crs_judge] [--benign-log LOG]
(default CRS_TESTS_DIR: ../shared/data/crs-regression/tests/regression/tests)

Converts the CRS tests into labelled log lines (tests/attacks/crs_to_log.py),
runs `vigil analyze --attacks` over them and joins its per-request findings
with the labels by line number. Prints per class: the lines, those flagged
with vigil's class of the same name (where vigil has one), and those flagged
as any attack; then the benign lines flagged, by class, with a few examples;
with --misses N, up to N attack lines of each class that were not flagged as it.

With --judge (bench/crs_judge: libmodsecurity running the CRS that Debian
ships, at paranoia level 1, a WAF's default), each class also gets the lines
that CRS blocks (anomaly score 5 or more), for comparison on the same lines,
and the benign lines are split: CRS's "must not fire" tests check one rule,
and many carry a payload another rule blocks, so the ones CRS lets through
are the false-positive set proper.

With --benign-log LOG (a real log with no attack campaign in it, such as
../shared/data/apache_combined_elastic_examples.log), the lines vigil flags
there, by signature, and with --judge the lines CRS blocks.
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
CRS_BLOCKS = 5  # CRS's default inbound anomaly threshold


def vigil_findings(vigil, log_path):
    """Line number -> {class: [signature ids]} from `vigil analyze --attacks`."""
    out = subprocess.run([vigil, "analyze", "-f", "combined", "--no-progress", "--attacks", "-", log_path],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    found = {}
    for line in out.splitlines():
        record = json.loads(line)
        found[record["line"]] = {a["class"]: a["signatures"] for a in record["attacks"]}
    return found


def crs_blocked(judge, log_path):
    """The line numbers CRS blocks, and crs_judge's cost line."""
    run = subprocess.run([judge, log_path], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    blocked = set()
    for line in run.stdout.splitlines():
        number, score, _ = line.split(" ", 2)
        if int(score) >= CRS_BLOCKS:
            blocked.add(int(number))
    return blocked, run.stderr.strip()


def percent(n, d):
    share = 100.0 * n / max(d, 1)
    return ("%d (%.1f%%)" if 0 < share < 10 else "%d (%.0f%%)") % (n, share)


def report_recall(labels, found, blocked):
    lines_of = collections.Counter(label["class"] for label in labels)
    as_own, as_any, by_crs = collections.Counter(), collections.Counter(), collections.Counter()
    for label in labels:
        classes = found.get(label["line"], {})
        as_own[label["class"]] += label["class"] in classes
        as_any[label["class"]] += bool(classes)
        by_crs[label["class"]] += blocked is not None and label["line"] in blocked
    print("%-16s %6s %14s %14s%s" % ("class", "lines", "as its class", "as attack",
                                     "   CRS PL1 blocks" if blocked is not None else ""))
    for cls in sorted(lines_of):
        n = lines_of[cls]
        own = percent(as_own[cls], n) if cls in ATTACK_CLASSES else "-"
        crs = "   %14s" % percent(by_crs[cls], n) if blocked is not None else ""
        print("%-16s %6d %14s %14s%s" % (cls, n, own, percent(as_any[cls], n), crs))
    total = len(labels)
    crs = "   %14s" % percent(sum(by_crs.values()), total) if blocked is not None else ""
    print("%-16s %6d %14s %14s%s" % ("all", total, "", percent(sum(as_any.values()), total), crs))


def report_misses(labels, found, lines, misses):
    missed = collections.defaultdict(list)
    for label in labels:
        if label["class"] in ATTACK_CLASSES and label["class"] not in found.get(label["line"], {}):
            missed[label["class"]].append(label["line"])
    for cls in sorted(missed):
        print("missed %s (%d):" % (cls, len(missed[cls])))
        for n in missed[cls][:misses]:
            print("  %s" % lines[n - 1][:200])


def report_benign(name, lines, wrong, examples):
    by = collections.Counter(c for n in wrong for c in wrong[n])
    print("%s: %d lines, %d flagged as an attack (%.1f%%): %s" % (
        name, len(lines), len(wrong), 100.0 * len(wrong) / max(len(lines), 1),
        ", ".join("%s %d" % (c, n) for c, n in sorted(by.items())) or "none"))
    for n in sorted(wrong)[:examples]:
        print("  %s: %s" % (",".join(sorted(wrong[n])), lines[n - 1][:160]))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Attack recall per class and false positives on the CRS set.")
    parser.add_argument("vigil", help="the vigil binary")
    parser.add_argument("crs", nargs="?", help="the CRS regression tests directory",
                        default=os.path.join(here, "..", "..", "shared", "data", "crs-regression", "tests",
                                             "regression", "tests"))
    parser.add_argument("--misses", type=int, default=0, metavar="N",
                        help="list up to N attack lines of each class not flagged as it, and N flagged benign lines")
    parser.add_argument("--judge", metavar="CRS_JUDGE",
                        help="bench/crs_judge: compare with CRS at paranoia level 1 on the same lines")
    parser.add_argument("--benign-log", metavar="LOG", help="a real log without attacks: what is flagged there")
    args = parser.parse_args()
    vigil, crs, misses, judge = args.vigil, args.crs, args.misses, args.judge
    if not os.path.isdir(crs):
        print("no CRS regression tests at %s: nothing measured" % crs, file=sys.stderr)
        return 1
    examples = max(10, misses)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(here, "..", "tests", "attacks", "crs_to_log.py"), crs, tmp],
                       check=True, stdout=subprocess.DEVNULL)
        attacks_path = os.path.join(tmp, "attacks.log")
        with open(attacks_path) as f:
            lines = f.read().splitlines()
        with open(os.path.join(tmp, "attacks.labels.jsonl")) as f:
            labels = [json.loads(x) for x in f]
        found = vigil_findings(vigil, attacks_path)
        blocked, cost = crs_blocked(judge, attacks_path) if judge else (None, None)
        report_recall(labels, found, blocked)
        if misses:
            report_misses(labels, found, lines, misses)

        benign_path = os.path.join(tmp, "benign.log")
        with open(benign_path) as f:
            benign_lines = f.read().splitlines()
        wrong = vigil_findings(vigil, benign_path)
        report_benign("benign", benign_lines, wrong, 0 if judge else examples)
        if judge:
            benign_blocked, _ = crs_blocked(judge, benign_path)
            passed = {n: wrong[n] for n in wrong if n not in benign_blocked}
            print("  of which CRS PL1 blocks %d lines; vigil flags %d of them"
                  % (len(benign_blocked), sum(1 for n in wrong if n in benign_blocked)))
            quiet = [n for n in range(1, len(benign_lines) + 1) if n not in benign_blocked]
            print("benign that CRS PL1 lets through: %d lines, vigil flags %s"
                  % (len(quiet), percent(len(passed), len(quiet))))
            for n in sorted(passed)[:examples]:
                print("  %s: %s" % (",".join(sorted(passed[n])), benign_lines[n - 1][:160]))
            print(cost)

    if args.benign_log:
        with open(args.benign_log, errors="surrogateescape") as f:
            real = f.read().splitlines()
        wrong = vigil_findings(vigil, args.benign_log)
        report_benign(os.path.basename(args.benign_log), real, wrong, 0)
        by_signature = collections.Counter(s for n in wrong for ids in wrong[n].values() for s in ids)
        for signature, n in by_signature.most_common():
            print("  %5d %s" % (n, signature))
        if judge:
            real_blocked, cost = crs_blocked(judge, args.benign_log)
            print("  CRS PL1 blocks %s; both flag %d" % (
                percent(len(real_blocked), len(real)), sum(1 for n in wrong if n in real_blocked)))
            print(cost)
    return 0


if __name__ == "__main__":
    sys.exit(main())
