#!/usr/bin/env bash
# Installs the Debian packages swift-distill builds, tests and runs with (skipped when present).
set -euo pipefail
packages=(pkg-config libopenblas-dev libopenmpi-dev openmpi-bin zlib1g-dev gnuplot-nox dataset-fashion-mnist python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
