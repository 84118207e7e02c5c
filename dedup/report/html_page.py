"""The HTML report's page: inline style and script, and a policy that allows nothing else.

The policy names the one style block and the one script by their SHA-256 hashes, so even a
string that escaped escaping could not run a script, load a resource or submit a form; the
report fetches nothing, which makes it work offline and leak nothing when opened.
"""

from __future__ import annotations

import base64
import hashlib

from .html_svg import esc

STYLE = """
:root { --fg:#1b1f24; --muted:#59636e; --line:#d8dee4; --bg:#fff; --panel:#f6f8fa;
  --accent:#0969da; --del:#ffebe9; --del-strong:#ffc1bd; --ins:#e6ffec; --ins-strong:#aceebb;
  --warn:#9a6700; color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6edf3; --muted:#9198a1; --line:#3d444d;
  --bg:#0d1117; --panel:#151b23; --accent:#4493f8; --del:#3c1618; --del-strong:#78191b;
  --ins:#12261e; --ins-strong:#1c4428; --warn:#d29922; } }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
  color:var(--fg); background:var(--bg); }
header, main { max-width:1180px; margin:0 auto; padding:0 20px; }
header { padding-top:18px; }
h1 { font-size:24px; margin:0 0 4px; }
h2 { font-size:19px; margin:30px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:15px; margin:16px 0 6px; }
nav a { margin-right:14px; }
a { color:var(--accent); }
.muted, .meta { color:var(--muted); }
.meta { font-size:13px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:14px 0; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:8px;
  padding:8px 14px; min-width:120px; }
.card b { display:block; font-size:22px; }
.card span { color:var(--muted); font-size:13px; }
.toolbar { display:flex; gap:8px; align-items:center; margin:8px 0 12px; flex-wrap:wrap; }
button, input { font:inherit; }
button { border:1px solid var(--line); background:var(--panel); color:var(--fg);
  border-radius:6px; padding:3px 10px; cursor:pointer; }
input[type=search] { border:1px solid var(--line); border-radius:6px; padding:3px 8px;
  min-width:280px; background:var(--bg); color:var(--fg); }
details { border:1px solid var(--line); border-radius:8px; margin:6px 0; background:var(--bg); }
details > summary { cursor:pointer; padding:6px 10px; list-style-position:outside;
  margin-left:14px; }
details[open] > summary { border-bottom:1px solid var(--line); }
details > .body { padding:6px 12px 10px; }
details.event { margin-left:4px; }
/* Lay out only the stories on screen: big reports stay fast when everything is open. */
details.story, details.group { content-visibility:auto; contain-intrinsic-size:auto 42px; }
.sid { font-weight:600; font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
.terms { display:inline; }
.term { display:inline-block; background:var(--panel); border:1px solid var(--line);
  border-radius:10px; padding:0 7px; margin:1px 2px; font-size:12.5px; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { text-align:left; vertical-align:top; padding:3px 8px;
  border-bottom:1px solid var(--line); }
th { color:var(--muted); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
td.date { white-space:nowrap; font-variant-numeric:tabular-nums; color:var(--muted); }
td.id, code { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px;
  overflow-wrap:anywhere; }
tr.copy td { color:var(--muted); }
.badge { display:inline-block; border-radius:10px; padding:0 7px; font-size:12px;
  background:var(--panel); border:1px solid var(--line); white-space:nowrap; }
.badge.copy { color:var(--warn); }
svg { max-width:100%; height:auto; display:block; margin:6px 0; }
svg.swatch { display:inline-block; margin:0 4px 0 0; vertical-align:baseline; }
svg text { fill:var(--fg); font:12px system-ui,sans-serif; }
svg text.axis { fill:var(--muted); font-size:11px; }
svg line.grid { stroke:var(--line); }
svg line.tick { stroke:var(--line); stroke-dasharray:2 3; }
svg circle { stroke:var(--bg); stroke-width:1; opacity:.9; }
svg rect.total { fill:var(--panel); stroke:var(--line); }
svg rect.part { fill:#e69f00; }
table.diff { table-layout:fixed; }
table.diff td { width:50%; font-size:13.5px; }
table.diff tr.same td { color:var(--muted); }
table.diff tr.removed td:first-child,
table.diff tr.changed td:first-child { background:var(--del); }
table.diff tr.added td:last-child,
table.diff tr.changed td:last-child { background:var(--ins); }
table.diff del { background:var(--del-strong); text-decoration:none; }
table.diff ins { background:var(--ins-strong); text-decoration:none; }
table.diff tr.fold td { text-align:center; color:var(--muted); font-style:italic; }
.evidence { margin:6px 0; }
ol.passages q { color:var(--muted); }
dl.glossary dt { font-weight:600; margin-top:8px; }
dl.glossary dd { margin-left:18px; }
footer { max-width:1180px; margin:30px auto; padding:0 20px; color:var(--muted); font-size:13px; }
"""

SCRIPT = """
(function () {
  "use strict";
  function all(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector)); }
  function setOpen(open) { all("#stories details").forEach(function (d) { d.open = open; }); }
  function onClick(id, handler) { document.getElementById(id).addEventListener("click", handler); }
  onClick("expand-all", function () { setOpen(true); });
  onClick("collapse-all", function () { setOpen(false); });
  var filter = document.getElementById("filter");
  var count = document.getElementById("filter-count");
  filter.addEventListener("input", function () {
    var query = filter.value.trim().toLocaleLowerCase();
    var shown = 0;
    all("#stories > details.story").forEach(function (story) {
      var hit = !query || story.textContent.toLocaleLowerCase().indexOf(query) >= 0;
      story.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = query ? shown + " matching stories" : "";
  });
  function reveal() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    if (target) { target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
"""


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def page(title: str, body: str) -> str:
    """Wrap ``body`` (trusted, already escaped HTML) into the whole self-contained page."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="und">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
