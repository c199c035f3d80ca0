#!/usr/bin/env bash
# Run HERE, after ../shared/gpu/prepare.sh, when a GPU is lent: adds the backend-parity
# probe (models/examples/backend_parity.rs, release, CUDA) and its runner to .gpu/. Then
# call the device tool's `run` with carry [".gpu"] and command "bash .gpu/parity.sh"
# (a few minutes: each model's first step on the CPU, the CPU's tensor-op paths and CUDA,
# on DBP15K zh_en). The reply's parity.log gives, per model, the loss and every
# parameter's gradient norm on each device, with the largest relative difference.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
[ -d .gpu/data/zh_en ] || { echo "run ../shared/gpu/prepare.sh first" >&2; exit 1; }
cargo build --release -p alignscope-models --example backend_parity --features cuda
cp target/release/examples/backend_parity .gpu/backend_parity
strip .gpu/backend_parity
cat > .gpu/parity.sh <<'RUNNER'
#!/usr/bin/env bash
# Runs ON the GPU machine (see scripts/gpu-parity.sh).
cd "$(dirname "$0")"
out=${OUT:-/tmp/gpu-out}; mkdir -p "$out"
timeout 500 ./backend_parity data/zh_en "$@" 2>&1 | tee "$out/parity.log"
RUNNER
du -sh .gpu
echo "ready: run the device tool with carry [\".gpu\"] and command \"bash .gpu/parity.sh\""
