#!/usr/bin/env bash
# One command for a fresh Debian machine: installs what is missing, builds the headless
# `alignscope` CLI (release) and runs the main job: the built-in demo. The first call
# builds the demo dataset from the pinned emoji packages into the data directory
# (about 7 minutes of image encoding on 2 CPU cores), then trains LoginMEA on it with and
# without images and prints what the images contribute. Extra arguments go to
# `alignscope demo` (e.g. `--epochs 10`, `--device cuda`, `--json`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --bin alignscope
exec target/release/alignscope demo "$@"
