#!/usr/bin/env bash
# One command for a fresh Debian machine: installs what is missing, builds the UI and the
# release desktop app and opens it. On first start the app builds the built-in demo
# dataset from the pinned emoji packages into the data directory (about 7 minutes of
# image encoding on 2 CPU cores, with a progress bar on the home view) and lists it.
#
# `--headless` (no display needed): builds the release CLI and runs `alignscope demo`,
# which builds the demo, trains LoginMEA on it with and without images and prints what
# the images contribute. Further arguments go to `alignscope demo` (e.g. `--epochs 10`,
# `--device cuda`, `--json`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--headless" ]; then
  shift
  cargo build --release --bin alignscope
  exec target/release/alignscope demo "$@"
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: the desktop app needs one. Run \`bash scripts/run.sh --headless\` for the CLI demo," >&2
  echo "or \`alignscope serve\` and open the printed URL in a browser." >&2
  exit 1
fi
cargo build --release -p alignscope --features desktop --bin alignscope-desktop
exec target/release/alignscope-desktop "$@"
