#!/usr/bin/env python3
"""Scores anomaly-detector results the way the Numenta Anomaly Benchmark does.

    bench/nab_score.py --data DIR --results DIR [--detector NAME] [--per-file]

DIR (data) holds NAB's series by category and its `windows.json` (the labelled
anomaly windows, e.g. ../shared/data/nab-dev); the results folder is what
`vigil anomaly score --out-dir` writes: RESULTS/<category>/<NAME>_<file>.csv with
`timestamp,value,anomaly_score`.

The rules, from the NAB paper (Lavin & Ahmad, 2015) and numenta/NAB's published
scoring description, written here from scratch:
  * The first 15% of a series (at most 750 points) is probation: not scored.
  * A point whose score reaches the threshold is a detection. Inside a window
    only the window's best (earliest) detection counts: it earns
    A_TP * S(y) / S(-1), y the point's place in the window (-1 at its left
    edge, just under 0 at its right), S(y) = 2 / (1 + e^(5y)) - 1.
  * A detection outside every window costs A_FP * S(y), y how far past the
    last window's right edge it is, in that window's widths (before the
    first window: the full A_FP).
  * A window with no detection costs A_FN.
  * One threshold for the whole corpus, the one with the best total, per
    profile. The total is normalised: 100 * (raw - null) / (perfect - null),
    null being no detections at all (every window missed) and perfect the
    left edge of every window.
Profiles (A_TP, A_FP, A_FN): standard (1, 0.11, 1), reward_low_FP_rate
(1, 0.22, 1), reward_low_FN_rate (1, 0.11, 2).
"""

import argparse
import csv
import datetime
import json
import math
import os
import sys

PROFILES = {
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
PROBATION_SHARE = 0.15


def scaled_sigmoid(y):
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def parse_time(text):
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError("not a NAB timestamp: %r" % text)


def read_results(path):
    times, scores = [], []
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        if header[:3] != ["timestamp", "value", "anomaly_score"]:
            raise ValueError("%s: header is %s, not timestamp,value,anomaly_score" % (path, header))
        for n, row in enumerate(rows, start=2):
            if len(row) < 3:
                raise ValueError("%s:%d: %d columns" % (path, n, len(row)))
            times.append(parse_time(row[0]))
            scores.append(float(row[2]))
    return times, scores


def scored_points(name, times, scores, windows, profile):
    """Per point (score, weight, window id or None), probation left out."""
    a_tp, a_fp, _ = profile
    max_tp = scaled_sigmoid(-1.0)
    probation = min(math.floor(PROBATION_SHARE * len(times)), PROBATION_SHARE * 5000)
    index_of = {t: i for i, t in enumerate(times)}
    limits = []
    for left, right in windows:
        l, r = parse_time(left), parse_time(right)
        if l not in index_of or r not in index_of:
            raise ValueError("%s: window %s..%s is not on the series' timestamps" % (name, left, right))
        limits.append((index_of[l], index_of[r]))
    limits.sort()
    points = []
    w = 0
    prev_right = prev_width = None
    for i, s in enumerate(scores):
        inside = w < len(limits) and limits[w][0] <= i <= limits[w][1]
        if inside:
            left, right = limits[w]
            width = right - left + 1
            y = -(right - i + 1) / width
            weight = scaled_sigmoid(y) * a_tp / max_tp
            window = "%s|%d" % (name, left)
        else:
            y = 3.0 if prev_right is None else abs(prev_right - i) / max(prev_width - 1, 1)
            weight = scaled_sigmoid(y) * a_fp
            window = None
        if i >= probation:
            points.append((s, weight, window))
        if inside and i == limits[w][1]:
            prev_right, prev_width = limits[w][1], limits[w][1] - limits[w][0] + 1
            w += 1
    return points


def best_threshold(points, a_fn):
    """The threshold with the best total over `points` (all files), its raw score."""
    windows = {p[2] for p in points if p[2] is not None}
    best = {w: None for w in windows}
    missed = len(windows)
    fp_sum = 0.0
    tp_sum = 0.0
    ordered = sorted(points, key=lambda p: p[0], reverse=True)
    top = (-a_fn * missed, 1.1)  # nothing detected
    i = 0
    while i < len(ordered):
        threshold = ordered[i][0]
        while i < len(ordered) and ordered[i][0] == threshold:
            s, weight, window = ordered[i]
            if window is None:
                fp_sum += weight
            elif best[window] is None:
                best[window] = weight
                tp_sum += weight
                missed -= 1
            elif weight > best[window]:
                tp_sum += weight - best[window]
                best[window] = weight
            i += 1
        total = tp_sum + fp_sum - a_fn * missed
        if total > top[0]:
            top = (total, threshold)
    return top, len(windows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="NAB data folder with windows.json")
    ap.add_argument("--results", required=True, help="what `vigil anomaly score --out-dir` wrote")
    ap.add_argument("--detector", default="baseline", help="the NAME of the result files (default baseline)")
    ap.add_argument("--per-file", action="store_true", help="also each file's standard score at the best threshold")
    args = ap.parse_args()

    with open(os.path.join(args.data, "windows.json")) as f:
        labels = json.load(f)
    series = []
    for rel, windows in sorted(labels.items()):
        category, file = rel.split("/")
        if not os.path.exists(os.path.join(args.data, rel)):
            continue  # a part of NAB only: the files it has
        result = os.path.join(args.results, category, "%s_%s" % (args.detector, file))
        if not os.path.exists(result):
            sys.exit("nab_score: no results for %s (looked for %s)" % (rel, result))
        times, scores = read_results(result)
        series.append((rel, times, scores, windows))
    if not series:
        sys.exit("nab_score: no series of windows.json under %s" % args.data)

    print("detector %s, %d series, %d windows" % (args.detector, len(series), sum(len(s[3]) for s in series)))
    for profile_name, profile in PROFILES.items():
        a_tp, _, a_fn = profile
        points = []
        for rel, times, scores, windows in series:
            points += scored_points(rel, times, scores, windows, profile)
        (raw, threshold), n_windows = best_threshold(points, a_fn)
        null, perfect = -a_fn * n_windows, a_tp * n_windows
        score = 100.0 * (raw - null) / (perfect - null)
        print("%-20s %6.1f  (threshold %.4f, raw %.2f)" % (profile_name, score, threshold, raw))
        if args.per_file and profile_name == "standard":
            for rel, times, scores, windows in series:
                pts = scored_points(rel, times, scores, windows, profile)
                ws = {p[2] for p in pts if p[2] is not None}
                got = {}
                fp = 0.0
                fps = 0
                for s, weight, window in pts:
                    if s < threshold:
                        continue
                    if window is None:
                        fp += weight
                        fps += 1
                    else:
                        got[window] = max(got.get(window, -9), weight)
                print("    %-58s windows %d/%d  tp %5.2f  fp %3d (%6.2f)"
                      % (rel, len(got), len(ws), sum(got.values()), fps, fp))


if __name__ == "__main__":
    main()
