#!/usr/bin/env python3
"""Writes luci-app-ndpresponder/po/templates/ndpresponder.pot from the app's sources: every
string literal passed to _() in the JavaScript views and every menu title, as LuCI's
i18n scanner collects them, sorted by text, each with the places it is used.

  scripts/luci-pot.py           rewrite the template
  scripts/luci-pot.py --check   exit 1 (and say what differs) if the template is stale
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "luci-app-ndpresponder"
POT = APP / "po" / "templates" / "ndpresponder.pot"

# _('...') or _("..."): one literal, no concatenation (the scanner could not follow it).
CALL = re.compile(r"""(?<![\w.$])_\(\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")\s*[,)]""")
ESCAPES = {"n": "\n", "t": "\t", "'": "'", '"': '"', "\\": "\\"}


def unescape(literal, where):
    def one(m):
        c = m.group(1)
        if c not in ESCAPES:
            sys.exit(f"{where}: unsupported escape \\{c} in a translated string")
        return ESCAPES[c]

    return re.sub(r"\\(.)", one, literal)


def po_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def collect():
    found = {}
    for js in sorted((APP / "htdocs").rglob("*.js")):
        rel = js.relative_to(ROOT)
        for lineno, line in enumerate(js.read_text().splitlines(), 1):
            calls = len(re.findall(r"(?<![\w.$])_\(", line))
            matches = list(CALL.finditer(line))
            if calls != len(matches):
                sys.exit(f"{rel}:{lineno}: _() must be called with one string literal")
            for m in matches:
                raw = m.group(1) if m.group(1) is not None else m.group(2)
                text = unescape(raw, f"{rel}:{lineno}")
                found.setdefault(text, []).append(f"{rel}:{lineno}")
    for menu in sorted((APP / "root" / "usr" / "share" / "luci" / "menu.d").glob("*.json")):
        rel = menu.relative_to(ROOT)
        lines = menu.read_text().splitlines()
        for node in json.loads(menu.read_text()).values():
            title = node.get("title")
            if title:
                needle = f'"title": {json.dumps(title)}'
                lineno = next(i for i, ln in enumerate(lines, 1) if needle in ln)
                found.setdefault(title, []).append(f"{rel}:{lineno}")
    return found


def render(found):
    out = ['msgid ""', 'msgstr "Content-Type: text/plain; charset=UTF-8"', ""]
    for text in sorted(found):
        for ref in found[text]:
            out.append(f"#: {ref}")
        out.append(f"msgid {po_quote(text)}")
        out.append('msgstr ""')
        out.append("")
    return "\n".join(out)


def main():
    text = render(collect())
    if sys.argv[1:] == ["--check"]:
        current = POT.read_text() if POT.exists() else ""
        if current != text:
            print(f"{POT.relative_to(ROOT)} is stale: run scripts/luci-pot.py", file=sys.stderr)
            sys.exit(1)
        print(f"{POT.relative_to(ROOT)} is current ({text.count('msgid ') - 1} strings)")
    elif not sys.argv[1:]:
        POT.write_text(text)
        print(f"wrote {POT.relative_to(ROOT)} ({text.count('msgid ') - 1} strings)")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
