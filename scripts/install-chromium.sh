#!/usr/bin/env bash
# Install Debian's chromium (no browser download from anywhere else) when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium present: $(chromium --version 2>/dev/null || echo unknown version)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium is missing; install Debian's package as root: apt-get install chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "installed $(chromium --version)"
