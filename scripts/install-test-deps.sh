#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing (root and apt-get required then).
# Each entry: a command the tests run, and the package that provides it.
set -euo pipefail
need=(
  "openssl:openssl"
  "redis-server:redis-server"
  "chromium:chromium"
  "nginx:nginx"
)
missing=()
for entry in "${need[@]}"; do
  cmd=${entry%%:*}
  pkg=${entry#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing test dependencies: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get is not available: install ${missing[*]} by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
