"""Extract the REST API examples of the seed into ``seed_examples.json`` (beside this file).

Usage: ``python3 tests/rest/extract_seed_examples.py [SEED_TEXT] [--check]``.  The default seed is
``../shared/seed/000_79375e11ce1a2a17.txt`` relative to the repository root.  ``--check`` exits 1 when the
committed fixture differs from a fresh extraction.

For each ``REST API - <Name>`` section between seed lines 615 and 11126 it records, with seed line numbers:
the documented method and URL, the C# (RestSharp) example request (method, path with query, body — the
C# verbatim string decoded), the curl examples of the Linux chapter (L299-L420), and each documented
response (status, and the example body: parsed JSON when it parses, otherwise the text joined across the
PDF's line wraps).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SEED = ROOT.parent / "shared" / "seed" / "000_79375e11ce1a2a17.txt"
FIXTURE = Path(__file__).resolve().parent / "seed_examples.json"
FIRST, LAST = 615, 11126
HEADING = re.compile(r"^\s*(?:Android )?REST API - (\w+)\s*$")
STATUS = re.compile(r"^\s*(200|400|401|404|500)(?:\s+(.*))?$")
CS_TOKEN = re.compile(r'@"((?:[^"]|"")*)"|"((?:[^"\\]|\\.)*)"', re.S)


def _join_wrapped(text: str) -> str:
    """Drop the PDF's line breaks that fall inside JSON strings; keep the others."""
    out, in_str, esc = [], False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            elif ch == "\n":
                continue
        elif ch == '"':
            in_str = True
        out.append(ch)
    return "".join(out)


def _drop_notes(text: str) -> str:
    """Drop the Notes column's paragraphs that a page break moved inside a JSON body."""
    paragraphs = re.split(r"\n\s*\n", text)
    kept = paragraphs[:1] + [p for p in paragraphs[1:] if not p.strip()[:1].isalpha()]
    return "\n".join(kept)


def _json_or_text(text: str) -> dict[str, Any]:
    joined = _join_wrapped(text.strip())
    prefix = ""
    m = re.match(r"^([A-Za-z0-9_\-]+: )(?=[\[{])", joined)
    if m:
        prefix, joined = m.group(1), joined[m.end() :]
    for candidate in (joined, _join_wrapped(_drop_notes(text.strip()))[len(prefix) :]):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        return {"prefix": prefix, "json": value} if prefix else {"json": value}
    return {"text": prefix + joined}


def _decode_cs(text: str) -> str:
    """Value of a C# expression concatenating verbatim (@"...") and regular ("...") literals."""
    parts = []
    for m in CS_TOKEN.finditer(text):
        if m.group(1) is not None:
            parts.append(m.group(1).replace('""', '"'))
        else:
            parts.append(m.group(2).encode().decode("unicode_escape"))
    return "".join(parts)


def _depth(line: str) -> int:
    return line.count("{") + line.count("[") - line.count("}") - line.count("]")


def _responses(lines: list[str], start: int, end: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    i = start
    while i < end:
        m = STATUS.match(lines[i])
        if not m:
            i += 1
            continue
        status, rest = int(m.group(1)), (m.group(2) or "").strip()
        entry: dict[str, Any] = {"status": status, "line": i + 1}
        if rest:
            entry["note"] = rest
            out.append(entry)
            i += 1
            continue
        j = i + 1
        while j < end and not lines[j].strip():
            j += 1
        body: list[str] = []
        if j < end and lines[j].lstrip().startswith(("{", "[")):
            depth = 0
            while j < end:
                if "Status Body Notes" not in lines[j]:
                    body.append(lines[j])
                    depth += _depth(lines[j])
                j += 1
                if depth <= 0 and body:
                    break
            entry.update(_json_or_text("\n".join(body)))
        else:
            depth = 0
            while j < end and (lines[j].strip() or depth > 0) and not STATUS.match(lines[j]):
                if "Status Body Notes" in lines[j]:
                    j += 1
                    continue
                body.append(lines[j])
                depth += _depth(lines[j])
                j += 1
            text = "\n".join(body)
            if "{" not in text:
                entry["text"] = " ".join(x.strip() for x in body)
            else:
                entry.update(_json_or_text(text))
        entry["body_lines"] = [i + 2, j]
        out.append(entry)
        i = j
    return out


def _request(lines: list[str], start: int, end: int) -> dict[str, Any] | None:
    for i in range(start, end):
        if "new RestRequest(" not in lines[i]:
            continue
        text, j = lines[i], i
        while "Method." not in text and j + 1 < end:
            j += 1
            text += lines[j].strip()
        m = re.search(r'new RestRequest\("([^"]*)",\s*Method\.(\w+)\)', text)
        if not m:
            return None
        req: dict[str, Any] = {"line": i + 1, "method": m.group(2).upper(), "path": m.group(1)}
        for k in range(j, end):
            if "var body = " in lines[k]:
                stop = k
                while stop < end and "request.Add" not in lines[stop]:
                    stop += 1
                raw = "\n".join(lines[k:stop]).split("var body = ", 1)[1].rsplit(";", 1)[0]
                value = _decode_cs(raw)
                req["body_lines"] = [k + 1, stop]
                req["body"] = value
                try:
                    req["body_json"] = json.loads(_join_wrapped(value))
                except ValueError:
                    pass
                break
            if "ExecuteAsync" in lines[k]:
                break
        return req
    return None


def _curl(lines: list[str]) -> list[dict[str, Any]]:
    """The curl commands of the Linux chapter (L299-L420), joined across wraps."""
    out = []
    i = 298
    while i < 440:
        if "curl -v" in lines[i]:
            j, text = i, lines[i][lines[i].index("curl -v") :].rstrip()
            while "| jq" not in text and "|jq" not in text and j + 1 < 440:
                j += 1
                nxt = lines[j].strip()
                if not nxt:
                    if text.count("'") % 2:
                        continue
                    break
                text += ("" if text.endswith(("/", "-")) else " ") + nxt
            out.append({"line": i + 1, "command": text})
            i = j + 1
        else:
            i += 1
    json_start = next(k for k in range(350, 420) if lines[k].strip() == "{")
    depth, body = 0, []
    for k in range(json_start, 420):
        body.append(lines[k])
        depth += _depth(lines[k])
        if depth <= 0:
            break
    opened = _join_wrapped("\n".join(body))
    out.append({"line": json_start + 1, "open_connection_json": json.loads(opened)})
    return out


def _next_text(lines: list[str], i: int) -> str:
    return next((x.strip() for x in lines[i + 1 : i + 5] if x.strip()), "")


def extract(seed: Path) -> dict[str, Any]:
    lines = seed.read_text(encoding="utf-8").splitlines()
    starts = [
        (i, m.group(1))
        for i in range(FIRST, LAST)
        if (m := HEADING.match(lines[i])) and _next_text(lines, i) == "Description"
    ]
    sections = []
    for n, (start, name) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else LAST
        sec: dict[str, Any] = {"name": name, "line": start + 1, "end": end}
        for i in range(start, end):
            if (m := re.match(r"^Method\s+(\w+)", lines[i])) and "method" not in sec:
                sec["method"] = m.group(1).upper()
            if (m := re.match(r"^URL\s+\{server_url\}(\S+)", lines[i])) and "url" not in sec:
                sec["url"], sec["url_line"] = m.group(1), i + 1
        resp_start = next((i for i in range(start, end) if "Status Body Notes" in lines[i]), end)
        resp_end = next(
            (i for i in range(resp_start, end) if lines[i].strip() in ("Code Examples", "Examples")), end
        )
        sec["responses"] = _responses(lines, resp_start + 1, resp_end)
        sec["request"] = _request(lines, resp_end, end)
        sections.append(sec)
    return {
        "seed": seed.name,
        "generated_by": "tests/rest/extract_seed_examples.py",
        "sections": sections,
        "curl": _curl(lines),
    }


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    seed = Path(args[0]) if args else DEFAULT_SEED
    data = json.dumps(extract(seed), indent=1, ensure_ascii=False) + "\n"
    if "--check" in argv:
        return 0 if FIXTURE.read_text(encoding="utf-8") == data else 1
    FIXTURE.write_text(data, encoding="utf-8")
    print(f"wrote {FIXTURE} ({len(json.loads(data)['sections'])} sections)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
