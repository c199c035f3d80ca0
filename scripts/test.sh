#!/usr/bin/env bash
# One command that runs every check and test: installs what the tests need, then the UI's
# checks and unit tests, formatting, clippy with warnings denied (while building), the
# whole Rust test suite (one debug build), the browser end-to-end tests and the desktop
# smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step prints a timestamped line as it starts; at the end (pass or fail) a summary
# gives each step's minutes, so everyone sees where CI's time goes.
steps=() started_at=() current="" t0=$(date +%s)
finish_step() {
  if [ -n "$current" ]; then
    steps+=("$current") started_at+=("$(($(date +%s) - step_start))")
  fi
}
step() {
  finish_step
  current="$*" step_start=$(date +%s)
  printf '\n== [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"
}
summary() {
  local rc=$?
  finish_step
  current=""
  printf '\n== step times (%s)\n' "$([ $rc -eq 0 ] && echo passed || echo "FAILED, exit $rc")"
  for i in "${!steps[@]}"; do
    awk -v s="${started_at[$i]}" -v name="${steps[$i]}" 'BEGIN { printf "%6.1f min  %s\n", s / 60, name }'
  done
  awk -v s="$(($(date +%s) - t0))" 'BEGIN { printf "%6.1f min  total\n", s / 60 }'
}
trap summary EXIT
# A fresh clone gains nothing from incremental compilation, and its caches took a fifth of
# the target folder; free disk is printed before and after the build because a full disk
# shows up only as a linker's bus error.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
disk_free() { df -h --output=avail . | tail -1 | tr -d ' '; }
echo "free disk here: $(disk_free)"
step "set-up: system packages, Rust, Node and Python dependencies"
bash scripts/setup.sh --sssom
export ALIGNSCOPE_PYTHON="$PWD/.venv/bin/python" ALIGNSCOPE_SSSOM_PYTHON="$PWD/.venv-sssom/bin/python"
# In CI nothing may be skipped: the shared DBP15K data, NumPy, and what the set-up
# installs (encoder weights, test photos, demo sources) must be there.
if [ "${CI:-}" = "true" ]; then
  export ALIGNSCOPE_REQUIRE_SHARED=1 ALIGNSCOPE_REQUIRE_NUMPY=1 ALIGNSCOPE_REQUIRE_SETUP=1
fi
step "UI: svelte-check, ESLint, Prettier"
npm run --prefix ui --silent check
step "UI: Vitest"
npm test --prefix ui --silent
step "cargo fmt --check"
cargo fmt --all -- --check
# Clippy without a pass of its own: the CUDA feature is checked once (the GPU code must
# compile although CI has no GPU), and from then on clippy-driver wraps rustc for the
# workspace's own crates, so every build below (the tests with their examples, the desktop
# app) is linted with warnings denied as it compiles. A separate `cargo clippy` over the
# desktop and test targets checked every dependency a second time: ~20 minutes of CI.
step "cargo clippy with the CUDA feature (warnings denied)"
cargo clippy -p alignscope --features cuda --lib --bins --locked -- -D warnings
clippy_driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver || true)
if [ -z "$clippy_driver" ]; then
  echo "clippy-driver is missing: rustup component add clippy" >&2
  exit 1
fi
export RUSTC_WORKSPACE_WRAPPER=$clippy_driver
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# The desktop app is built by this same pass (`--features alignscope/desktop`): a build of
# its own resolves features without the dev-dependencies, which changes a few leaf
# crates' features (foldhash, fastrand) and with them the hash of everything above them,
# Burn included, so it compiled Burn a second time (~30 minutes of CI).
step "cargo test, the desktop app built with it (the workspace's crates linted as they compile, warnings denied)"
cargo test --workspace --locked --features alignscope/desktop
echo "free disk after the build: $(disk_free); target folder: $(du -sh "${CARGO_TARGET_DIR:-target}" 2>/dev/null | cut -f1 || true)"
step "TypeScript bindings up to date (the export_bindings test rewrites ui/src/bindings)"
if [ -n "$(git status --porcelain -- ui/src/bindings)" ]; then
  git status --porcelain -- ui/src/bindings
  git --no-pager diff --stat -- ui/src/bindings
  echo "ui/src/bindings is stale: commit what \`cargo test -p alignscope export_bindings\` generated" >&2
  exit 1
fi
step "browser end to end (headless Chromium against \`alignscope serve\`; screenshots in target/screenshots)"
npm test --prefix tests/e2e --silent
step "desktop smoke test (the real app under Xvfb: window opens, home lists the demo, screenshot)"
ALIGNSCOPE_SKIP_BUILD=1 bash scripts/desktop-smoke.sh
