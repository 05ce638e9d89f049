#!/usr/bin/env bash
# Checks a headwatch report.html in headless Chromium (Debian package: chromium), offline, and saves a
# screenshot at laptop (1280 px) and phone (390 px) width:
#   scripts/check-report-html.sh REPORT.html [OUTDIR] [HEIGHT]
# writes OUTDIR/report-1280.png and OUTDIR/report-390.png (the phone width as a 390 px frame in a 500 px
# window, headless Chromium's narrowest; OUTDIR defaults to the report's directory,
# HEIGHT, the screenshots' height in CSS pixels, to 4000). It fails (exit 1) when the report holds a script
# or references anything outside itself, or when, rendered, the page logs anything to the console, an
# image does not decode, the page scrolls sideways, or at laptop width a table scrolls sideways in its
# own container (at phone width tables may).
# The report has no script; a copy of it gets a probe script that writes what it finds to the console,
# which Chromium logs on stderr: any console line but the probe's own "done" is a failure.
set -euo pipefail
html="${1:?usage: $0 REPORT.html [OUTDIR] [HEIGHT]}"
outdir="${2:-$(dirname "$html")}"
height="${3:-4000}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
  echo "check-report-html: chromium not found (Debian: apt-get install -y chromium)" >&2
  exit 2
fi
failed=0
fail() { echo "check-report-html: $html: $*" >&2; failed=1; }
grep -qi '<script' "$html" && fail "holds a script"
grep -Eqi '(src|href)="(https?:)?//|url\(|@import' "$html" && fail "references an external resource"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$html" "$work/probed.html" <<'PY'
import sys
probe = """<script>(function () {
  var fail = function (m) { console.log('HWCHECK FAIL ' + m); };
  addEventListener('error', function (e) {
    fail('error: ' + (e.target && e.target.tagName ? e.target.tagName + ' ' + (e.target.alt || '') : e.message));
  }, true);
  addEventListener('load', function () {
    var w = innerWidth, page = document.documentElement;
    if (page.scrollWidth > w) fail('the page scrolls sideways: ' + page.scrollWidth + ' px wide at ' + w);
    if (w >= 1000) document.querySelectorAll('.scroll').forEach(function (s) {
      if (s.scrollWidth > s.clientWidth) fail('a table scrolls sideways: ' + s.scrollWidth + ' px in ' + s.clientWidth
          + ' (' + s.textContent.slice(0, 60) + ')');
    });
    document.querySelectorAll('img').forEach(function (i) {
      if (!i.complete || i.naturalWidth === 0) fail('image does not decode: ' + i.alt);
    });
    console.log('HWCHECK done ' + w);
  });
})();</script>"""
src, dst = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
if "<head>" not in text:
    sys.exit("check-report-html: no <head> in " + src)
open(dst, "w", encoding="utf-8").write(text.replace("<head>", "<head>" + probe, 1))
PY

# Headless windows are at least 500 px wide: the phone width is a frame of 390 px at the left of one.
cat >"$work/phone.html" <<HTML
<!DOCTYPE html><html><body style="margin:0;background:#888">
<iframe src="probed.html" style="width:390px;height:${height}px;border:0;background:#fff"></iframe></body></html>
HTML

mkdir -p "$outdir"
for width in 1280 390; do
  shot="$(realpath -m "$outdir/report-$width.png")"
  page="$work/probed.html"
  window="$width"
  if (( width < 500 )); then page="$work/phone.html"; window=500; fi
  rm -f "$shot"
  "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking --user-data-dir="$work/profile" \
    --enable-logging=stderr --v=0 --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$window,$height" --screenshot="$shot" "file://$page" >/dev/null 2>"$work/log" || true
  console="$(grep -a ':CONSOLE' "$work/log" | sed -E 's/^[^"]*"//; s/", source: .*$//' || true)"
  grep -q "^HWCHECK done $width\$" <<<"$console" || fail "at $width px: the page did not finish loading (or the width is not $width)"
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == "HWCHECK done $width" ]] && continue
    fail "at $width px: ${line#HWCHECK FAIL }"
  done <<<"$console"
  [[ -s "$shot" ]] && echo "$shot" || fail "at $width px: no screenshot"
done
exit "$failed"
