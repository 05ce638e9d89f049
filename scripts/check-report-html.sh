#!/usr/bin/env bash
# Renders a headwatch report.html in headless Chromium (Debian package: chromium) and saves a
# full-page screenshot, to check that the self-contained report displays offline.
#   scripts/check-report-html.sh headwatch-report/report.html [screenshot.png] [width] [height]
# Network access is disabled; everything must come from the file itself.
set -euo pipefail
html="${1:?usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]}"
out="${2:-${html%.html}.png}"
width="${3:-1280}"
height="${4:-4000}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
  echo "check-report-html: chromium not found (Debian: apt-get install -y chromium)" >&2
  exit 2
fi
if grep -Eq '(src|href)="(https?:)?//' "$html"; then
  echo "check-report-html: $html references an external resource" >&2
  exit 1
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --user-data-dir="$profile" --hide-scrollbars --window-size="$width,$height" \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$html")" >/dev/null 2>&1
test -s "$out"
echo "$out"
