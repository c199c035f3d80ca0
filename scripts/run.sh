#!/usr/bin/env bash
# One command for a fresh Debian machine: installs what is missing, builds the headless
# `alignscope` CLI (release) and runs the main job. Until the demo dataset and the desktop
# app land, the main job inspects the real DBP15K zh_en pair beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --bin alignscope
data=../shared/datasets/dbp15k/zh_en
if [ -d "$data" ]; then
  target/release/alignscope dataset inspect "$data"
else
  echo "No dataset at $data; try: target/release/alignscope dataset inspect <folder>"
  target/release/alignscope --help
fi
