#!/usr/bin/env bash
# Smoke test of the real desktop app under Xvfb (see tests/desktop/smoke.mjs: home, entity
# card, training, closing the window while training): builds the
# app, prepares a fresh data directory with the small demo cut, starts Xvfb and
# WebKitWebDriver itself, runs the test, and stops every process it started by its PID.
# The screenshot lands in target/screenshots/desktop-home.png.
#
# Needs what scripts/setup.sh installs (WebKitGTK, Xvfb, WebKitWebDriver, the built UI).
# Set ALIGNSCOPE_SKIP_BUILD=1 to test binaries built already.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf '\033[1m[desktop-smoke]\033[0m %s\n' "$*"; }

for tool in Xvfb WebKitWebDriver node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool is missing: run bash scripts/setup.sh"
    exit 1
  fi
done

target_dir=${CARGO_TARGET_DIR:-$root/target}
app=$target_dir/debug/alignscope-desktop
cli=$target_dir/debug/alignscope
if [ "${ALIGNSCOPE_SKIP_BUILD:-}" != 1 ]; then
  say "building the app and the CLI (debug)"
  cargo build -p alignscope --features desktop --bin alignscope-desktop --locked
  cargo build -p alignscope --bin alignscope --locked
fi
for binary in "$app" "$cli"; do
  if [ ! -x "$binary" ]; then
    echo "desktop-smoke: $binary is missing; build it (cargo build -p alignscope --features desktop --bins) or leave ALIGNSCOPE_SKIP_BUILD unset" >&2
    exit 1
  fi
done

work=$(mktemp -d /tmp/alignscope-desktop-smoke.XXXXXX)
pids=()
# Stops a process we started and, first, whatever it started (the driver starts the app,
# the app its WebKit processes).
kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    kill_tree "$child"
  done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local status=$?
  # Newest first: the driver (and the app it started) before the X server.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill_tree "${pids[i]}"
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -s "$log" ] || continue
      say "--- $(basename "$log") (last lines)"
      tail -n 30 "$log"
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh data directory with the demo's small cut registered (the app's start-up finds it
# through ALIGNSCOPE_DEMO_LIMIT and does not start building the full demo).
export ALIGNSCOPE_HOME=$work/home ALIGNSCOPE_DEMO_LIMIT=40
say "building and registering the demo's first 40 emoji in $ALIGNSCOPE_HOME"
"$cli" demo --build-only --limit 40 >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }

# A free display number and port.
display=${SMOKE_DISPLAY:-99}
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do
  display=$((display + 1))
done
port=${SMOKE_WEBDRIVER_PORT:-4445}
while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  port=$((port + 1))
done

Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  [ -e "/tmp/.X11-unix/X$display" ] && break
  sleep 0.1
done
[ -e "/tmp/.X11-unix/X$display" ] || { say "Xvfb did not start"; exit 1; }
say "Xvfb on :$display (pid ${pids[0]})"

# Without TAURI_WEBVIEW_AUTOMATION=true the session hangs (the webview refuses automation).
DISPLAY=":$display" TAURI_WEBVIEW_AUTOMATION=true WebKitWebDriver --port="$port" >"$work/webdriver.log" 2>&1 &
pids+=($!)
say "WebKitWebDriver on port $port (pid ${pids[1]})"

DISPLAY=":$display" WEBDRIVER_URL="http://127.0.0.1:$port" ALIGNSCOPE_DESKTOP_BIN="$app" ALIGNSCOPE_CLI_BIN="$cli" \
  SCREENSHOT="$target_dir/screenshots/desktop-home.png" \
  node tests/desktop/smoke.mjs
