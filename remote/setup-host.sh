#!/bin/sh
# Prepares a fresh Linux host for kbench native runs: a C compiler (cc), binutils (objcopy), tar and timeout.
# Idempotent. Run it over the same ssh alias kbench uses:   ssh <host> sh -s < remote/setup-host.sh
set -eu
if command -v cc >/dev/null 2>&1 && command -v objcopy >/dev/null 2>&1 && command -v tar >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
  echo "kbench: host ready: $(cc --version | head -n 1), $(uname -m), $(getconf _NPROCESSORS_ONLN) CPUs"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc libc6-dev binutils tar coreutils
elif command -v dnf >/dev/null 2>&1; then
  $sudo dnf install -y -q gcc glibc-devel binutils tar coreutils
elif command -v yum >/dev/null 2>&1; then
  $sudo yum install -y -q gcc glibc-devel binutils tar coreutils
elif command -v apk >/dev/null 2>&1; then
  $sudo apk add --no-cache gcc musl-dev binutils tar coreutils
else
  echo "kbench: no apt-get, dnf, yum or apk here: install a C compiler (cc), binutils, tar and coreutils by hand" >&2
  exit 1
fi
echo "kbench: host ready: $(cc --version | head -n 1), $(uname -m), $(getconf _NPROCESSORS_ONLN) CPUs"
