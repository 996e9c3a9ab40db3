#!/usr/bin/env bash
# ensure-debian-package.sh COMMAND PACKAGE: install Debian's PACKAGE when COMMAND is missing.
# Only Debian's packages: no browser or tool downloads from anywhere else.
set -euo pipefail
command_name=$1
package=$2
if command -v "$command_name" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$command_name is missing; install Debian's package as root: apt-get install $package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "$package" >/dev/null
echo "installed $package"
