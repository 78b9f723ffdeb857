#!/usr/bin/env bash
# Installs the Debian packages swift-distill builds, tests and runs with (skipped when present).
set -euo pipefail
packages=(pkg-config gcc libopenblas-dev libdnnl-dev libopenmpi-dev openmpi-bin zlib1g-dev
          curl ca-certificates python3 python3-pip python3-numpy gnuplot-nox dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
