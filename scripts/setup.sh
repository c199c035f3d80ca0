#!/usr/bin/env bash
# Installs what AlignScope's build and tests need and is missing on a Debian machine:
# system packages (apt-get), and a Python virtual environment in .venv with the pinned
# tools the tests use (NumPy, to write real pickled image-feature fixtures).
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
  if ! .venv/bin/python -c 'import numpy' >/dev/null 2>&1; then
    say "Installing Python test tools into .venv: $(tr '\n' ' ' < scripts/requirements-test.txt)"
    .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  fi
}

need_rust
if command -v dpkg >/dev/null 2>&1; then
  apt_install pkg-config ca-certificates
fi
python_env
say "Ready."
