#!/usr/bin/env bash
# One command that runs every check and test: installs what the tests need, then
# formatting, clippy with warnings denied, and the whole test suite (one debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ALIGNSCOPE_PYTHON="$PWD/.venv/bin/python"
# In CI nothing may be skipped: the shared DBP15K data, NumPy, and what the set-up
# installs (encoder weights, test photos, demo sources) must be there.
if [ "${CI:-}" = "true" ]; then
  export ALIGNSCOPE_REQUIRE_SHARED=1 ALIGNSCOPE_REQUIRE_NUMPY=1 ALIGNSCOPE_REQUIRE_SETUP=1
fi
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== cargo check --features cuda (the CUDA backend must keep compiling; CI has no GPU)"
cargo check -p alignscope --features cuda --locked
