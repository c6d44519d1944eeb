#!/usr/bin/env bash
# console_browser: starts `sluice run` and drives its console in headless Chromium (browser.mjs,
# playwright-core): login, one-time password change, dashboard, settings, logout. Screenshots go
# to $SLUICE_BUILD_DIR/console-*.png. Needs Debian's chromium and `npm ci` in tests/e2e.
set -euo pipefail

: "${SLUICE_BIN:?SLUICE_BIN must point at the sluice binary}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium_bin" ]; then
    echo "FAIL: $chromium_bin is missing (apt-get install chromium)" >&2
    exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    echo "FAIL: $here/node_modules/playwright-core is missing (run: npm ci --prefix $here)" >&2
    exit 1
fi
command -v node >/dev/null || { echo "FAIL: node is not installed" >&2; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl is not installed" >&2; exit 1; }

shots=${SLUICE_BUILD_DIR:-$PWD}
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-console-browser.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});')
"$SLUICE_BIN" run --state-dir "$work/state" --listen "127.0.0.1:$port" \
    >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$work/stderr" >&2
        echo "FAIL: sluice run exited early" >&2
        exit 1
    fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then break; fi
    sleep 0.1
done

onetime=$(sed -n 's/.*one-time password for admin: \([A-Za-z0-9]*\).*/\1/p' "$work/stdout" | head -n1)
if [ -z "$onetime" ]; then
    echo "FAIL: sluice run printed no 'one-time password for admin: ...' line" >&2
    exit 1
fi

if ! SLUICE_URL="http://127.0.0.1:$port" SLUICE_ONETIME="$onetime" \
     SLUICE_VERSION_EXPECTED="$("$SLUICE_BIN" version | awk '{print $2}')" \
     SHOT_DIR="$shots" CHROMIUM="$chromium_bin" node "$here/browser.mjs"; then
    echo "--- daemon stderr (tail):" >&2
    tail -n 30 "$work/stderr" >&2
    exit 1
fi
echo "screenshots: $shots/console-dashboard.png $shots/console-settings.png"
