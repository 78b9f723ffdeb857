#!/usr/bin/env python3
"""Make the small MNIST test fixture from the full data set.

Usage: scripts/make-fixture.py [SOURCE_DIR [OUT_DIR]]
       (defaults data/mnist and Tests/Fixtures/mnist-small)

Writes the first TRAIN training and first TEST test samples of the real MNIST files
in SOURCE_DIR (plain or .gz, as scripts/fetch-mnist.sh leaves them) as gzipped IDX
under the standard four names plus `.gz`. Starts at 4000 + 1000 samples and drops
training samples (never below 3000) until the four files fit in 1 MB. The gzip
header carries no name or time, so the output is reproducible. Standard library only.
"""
import gzip
import os
import struct
import sys

LIMIT = 1_000_000
TRAIN, TEST, MIN_TRAIN = 4000, 1000, 3000


def read_idx(directory, name):
    """(magic, dims, payload) of an IDX file `name` or `name.gz` in `directory`."""
    path = os.path.join(directory, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    elif os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rb") as f:
            data = f.read()
    else:
        sys.exit(f"make-fixture: {path}[.gz] not found (run scripts/fetch-mnist.sh)")
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    return magic, dims, data[4 + 4 * rank:]


def subset(directory, name, count):
    """The IDX bytes of the first `count` samples of `name`."""
    magic, dims, payload = read_idx(directory, name)
    if dims[0] < count:
        sys.exit(f"make-fixture: {name} has only {dims[0]} samples, need {count}")
    sample = 1
    for d in dims[1:]:
        sample *= d
    header = struct.pack(f">I{len(dims)}I", magic, count, *dims[1:])
    return header + payload[:count * sample]


def gz(payload):
    return gzip.compress(payload, compresslevel=9, mtime=0)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "data/mnist"
    out = sys.argv[2] if len(sys.argv) > 2 else "Tests/Fixtures/mnist-small"
    train = TRAIN
    while True:
        blobs = {}
        for split, count in (("train", train), ("t10k", TEST)):
            for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
                name = f"{split}-{kind}"
                blobs[name + ".gz"] = gz(subset(source, name, count))
        total = sum(len(b) for b in blobs.values())
        if total <= LIMIT:
            break
        if train - 100 < MIN_TRAIN:
            sys.exit(f"make-fixture: {total} bytes with {train} training samples exceeds {LIMIT}")
        train -= 100
    os.makedirs(out, exist_ok=True)
    for name, blob in blobs.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)
        print(f"{os.path.join(out, name)}: {len(blob)} bytes")
    print(f"{train} train + {TEST} test samples, {total} bytes in all")


if __name__ == "__main__":
    main()
