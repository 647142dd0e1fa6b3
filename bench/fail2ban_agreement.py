#!/usr/bin/env python3
"""Agreement with fail2ban's own annotated test logs for its access-log filters.

Usage: bench/fail2ban_agreement.py build/vigil [FAIL2BAN_LOGS_DIR]

FAIL2BAN_LOGS_DIR is fail2ban's tests/files/logs; without it the script
fetches the Debian package (`apt-get download fail2ban`) into a temporary
directory and reads it from there. For each filter that reads an access
log (apache-badbots, nginx-bad-request, nginx-botsearch), every log line
follows a `# failJSON: {...}` annotation that says whether fail2ban's filter
matches it. vigil agrees with a line when `vigil analyze --attacks` flags it
as an attack exactly when fail2ban matches it. Lines that are not access-log
lines (nginx error-log lines in nginx-botsearch) are counted apart: vigil
reads access logs only.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

FILTERS = ["apache-badbots", "nginx-bad-request", "nginx-botsearch"]


def logs_dir(tmp):
    subprocess.run(["apt-get", "download", "fail2ban"], cwd=tmp, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deb = glob.glob(os.path.join(tmp, "fail2ban_*.deb"))[0]
    subprocess.run(["dpkg-deb", "-x", deb, os.path.join(tmp, "root")], check=True)
    found = glob.glob(os.path.join(tmp, "root", "usr", "lib", "python3*", "dist-packages", "fail2ban", "tests",
                                   "files", "logs"))
    return found[0]


def annotated(path):
    """(expected match, log line) for each annotated line."""
    out, expect = [], None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# failJSON:"):
                expect = json.loads(line.split(":", 1)[1]).get("match", False)
            elif line and not line.startswith("#") and expect is not None:
                out.append((expect, line))
                expect = None
    return out


def main():
    if len(sys.argv) < 2:
        print("usage: bench/fail2ban_agreement.py VIGIL [FAIL2BAN_LOGS_DIR]", file=sys.stderr)
        return 2
    vigil = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        source = sys.argv[2] if len(sys.argv) > 2 else logs_dir(tmp)
        print("%-18s %6s %9s %9s %9s %11s" % ("filter", "lines", "fail2ban", "vigil", "agree", "not access"))
        for name in FILTERS:
            rows = annotated(os.path.join(source, name))
            log = os.path.join(tmp, name + ".log")
            with open(log, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write("".join(line + "\n" for _, line in rows))
            out = subprocess.run([vigil, "analyze", "-f", "combined", "--no-progress", "--attacks", "-",
                                  "--quarantine", os.path.join(tmp, name + ".bad"), log],
                                 check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
            flagged = {json.loads(l)["line"]: json.loads(l)["attacks"] for l in out.splitlines()}
            with open(os.path.join(tmp, name + ".bad")) as f:
                unread = {json.loads(l)["line"] for l in f}
            agree, disagreements = 0, []
            for n, (expect, line) in enumerate(rows, 1):
                if n in unread:
                    continue
                if expect == (n in flagged):
                    agree += 1
                else:
                    disagreements.append((expect, line, flagged.get(n)))
            read = len(rows) - len(unread)
            print("%-18s %6d %9d %9d %5d/%-3d %11d" % (name, len(rows), sum(e for e, _ in rows), len(flagged), agree,
                                                       read, len(unread)))
            for expect, line, attacks in disagreements:
                print("  fail2ban %s, vigil %s: %s" % ("matches" if expect else "does not match",
                                                      json.dumps(attacks) if attacks else "nothing", line[:160]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
