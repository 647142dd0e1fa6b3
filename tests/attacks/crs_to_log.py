#!/usr/bin/env python3
"""Turns the OWASP Core Rule Set's regression tests into access-log lines.

An access log shows a request's line (method, URI, protocol), its Referer and
its User-Agent, not its body or other headers. So only the tests whose
payload sits in one of those three become log lines:

- a test that expects its rule to fire (`expect_ids`) and carries its
  payload in the URI, Referer or User-Agent becomes an attack line, labelled
  with the class its rule folder names (930 traversal, 942 sqli, ...);
- a test that expects its rule not to fire (`no_expect_ids`) becomes a
  benign line of the false-positive set.

Tests with a body (`data`), an `encoded_request`/`raw_request`, or a header
a log does not show (a cookie, `X-Filename`, `Range`, ...) are left out:
their payload cannot be told apart from what a log would show.

Most labels come from the rule's folder; the rules that name a class of
their own are relabelled: 921200 (LDAP injection) `ldap`, 932170/932171
`shellshock`, the SSRF rules of 934 (934110/934120/934170/934190) `rfi`,
the restricted-file rules (930130, 930140, 920440, 920500) `probe`, and the
parameter-pollution rules of 921 (921180, 921210, 921220) `hpp`, a class vigil
does not report.

Usage: crs_to_log.py CRS_TESTS_DIR OUT_DIR
writes OUT_DIR/attacks.log, OUT_DIR/attacks.labels.jsonl (one label per line
of attacks.log: line, class, rule, test, field), OUT_DIR/benign.log and
OUT_DIR/benign.labels.jsonl, and prints what it took per class.

Lines are in the combined format, as nginx writes them: a `"` or a byte
outside printable ASCII in a field is written as `\\xHH`.
"""

import collections
import json
import os
import sys

import yaml

# The rule folder's number -> the class vigil reports for it.
CLASS_OF_FOLDER = {
    "913": "scanner",
    "920": "bad_request",
    "921": "crlf",
    "930": "traversal",
    "931": "rfi",
    "932": "cmdi",
    "933": "code",
    "934": "code",
    "941": "xss",
    "942": "sqli",
    "943": "session_fixation",
    "944": "code",
}

# Rules whose class is not their folder's.
CLASS_OF_RULE = {
    921200: "ldap",                                   # LDAP injection
    932170: "shellshock", 932171: "shellshock",       # shellshock
    934110: "rfi", 934120: "rfi", 934170: "rfi", 934190: "rfi",  # SSRF: metadata, IP forms, data:, localhost
    930130: "probe", 930140: "probe",                 # restricted files (secrets, AI agent configs)
    920440: "probe", 920500: "probe",                 # restricted extensions, backup files
    # HTTP parameter pollution (a name repeated, `foo[1]a=`, `foo[1]=`) sits in
    # the protocol folder but is not header injection; vigil has no class for it.
    921180: "hpp", 921210: "hpp", 921220: "hpp",
}

# Headers that carry no payload, or one an access log shows.
SHOWN_HEADERS = {"host", "user-agent", "referer", "accept", "accept-language", "accept-encoding",
                 "proxy-connection", "keep-alive", "connection"}

CRS_AGENT = "OWASP CRS test agent"
PLAIN_URIS = {"", "/", "/post", "/get", "/index.html", "/?"}


def escape(text):
    out = []
    for byte in text.encode("utf-8", "surrogateescape"):
        if byte == 0x22 or byte == 0x5C or byte < 0x20 or byte >= 0x7F:
            out.append("\\x%02X" % byte)
        else:
            out.append(chr(byte))
    return "".join(out)


def header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def where_payload(inp):
    """The field that carries the payload (uri, referer, user_agent), or None."""
    headers = inp.get("headers") or {}
    agent = header(headers, "User-Agent")
    referer = header(headers, "Referer")
    uri = str(inp.get("uri", "/"))
    if agent is not None and agent != CRS_AGENT and agent != "":
        return "user_agent"
    # The harness sets a Referer of just "http" on tests whose payload is
    # elsewhere.
    if referer is not None and referer.lower() not in ("", "-", "http", "https"):
        return "referer"
    if uri not in PLAIN_URIS:
        return "uri"
    return None


def log_line(n, inp):
    headers = inp.get("headers") or {}
    method = str(inp.get("method", "GET"))
    uri = str(inp.get("uri", "/"))
    version = str(inp.get("version", "HTTP/1.1"))
    agent = header(headers, "User-Agent") or "-"
    referer = header(headers, "Referer") or "-"
    client = "198.51.100.%d" % (n % 250 + 1)
    second = n % 60
    return '%s - - [01/Jan/2024:00:%02d:%02d +0000] "%s %s %s" 200 512 "%s" "%s"' % (
        client, (n // 60) % 60, second, escape(method), escape(uri), escape(version), escape(referer), escape(agent))


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-10], file=sys.stderr)
        print("usage: crs_to_log.py CRS_TESTS_DIR OUT_DIR", file=sys.stderr)
        return 2
    source, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    attacks, benign = [], []
    skipped = collections.Counter()
    for root, _, files in sorted(os.walk(source)):
        folder = os.path.basename(root)
        if not folder.startswith("REQUEST-"):
            continue
        cls = CLASS_OF_FOLDER.get(folder.split("-")[1])
        if cls is None:
            continue
        for name in sorted(files):
            if not name.endswith(".yaml"):
                continue
            with open(os.path.join(root, name), encoding="utf-8", errors="surrogateescape") as f:
                try:
                    doc = yaml.safe_load(f)
                except yaml.YAMLError:
                    skipped["yaml_error"] += 1
                    continue
            if not isinstance(doc, dict):
                skipped["not_a_test_file"] += 1
                continue
            rule = doc.get("rule_id")
            for test in doc.get("tests") or []:
                for stage in test.get("stages") or []:
                    stage = stage.get("stage", stage)  # older files nest it
                    inp, out = stage.get("input") or {}, stage.get("output") or {}
                    log = out.get("log") or out.get("log_contains") or {}
                    expect = log.get("expect_ids") if isinstance(log, dict) else None
                    no_expect = log.get("no_expect_ids") if isinstance(log, dict) else None
                    if inp.get("data") or inp.get("encoded_request") or inp.get("raw_request"):
                        skipped["body_or_raw"] += 1
                        continue
                    if any(str(h).lower() not in SHOWN_HEADERS for h in (inp.get("headers") or {})):
                        skipped["unlogged_header"] += 1
                        continue
                    field = where_payload(inp)
                    label = {"class": CLASS_OF_RULE.get(rule, cls), "rule": rule, "test": test.get("test_id"),
                             "field": field, "desc": " ".join(str(test.get("desc") or "").split())[:160]}
                    if expect and field:
                        attacks.append((inp, label))
                    elif no_expect:
                        benign.append((inp, label))
                    else:
                        skipped["not_in_a_log"] += 1
    for kind, rows in (("attacks", attacks), ("benign", benign)):
        with open(os.path.join(out_dir, kind + ".log"), "w", encoding="ascii") as log, \
                open(os.path.join(out_dir, kind + ".labels.jsonl"), "w", encoding="ascii") as labels:
            for n, (inp, label) in enumerate(rows, 1):
                log.write(log_line(n, inp) + "\n")
                labels.write(json.dumps(dict(label, line=n)) + "\n")
    per_class = collections.Counter(label["class"] for _, label in attacks)
    for cls, n in sorted(per_class.items()):
        print("attacks %-16s %5d" % (cls, n))
    print("attacks %-16s %5d" % ("all", len(attacks)))
    print("benign  %-16s %5d" % ("all", len(benign)))
    for why, n in sorted(skipped.items()):
        print("skipped %-16s %5d" % (why, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
