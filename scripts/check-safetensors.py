#!/usr/bin/env python3
"""Read a float32 safetensors file with only the standard library and numpy.

Usage: check-safetensors.py FILE

Checks the layout (length prefix, JSON header, F32 only, tensors covering the data
contiguously) and prints one JSON object on stdout:
  {"data_start": int, "metadata": {...},
   "tensors": [{"name": str, "shape": [int], "bits": [uint32 bit patterns]}]}
with the tensors in data-offset order. Exits non-zero with a message on stderr if the
file is malformed. Used by SafeTensorsTests to prove the Swift writer interoperates.
"""
import json
import struct
import sys

import numpy as np


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert 8 + n <= len(blob), f"header length {n} exceeds file size {len(blob)}"
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n :]
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    tensors, covered = [], 0
    for name, entry in entries:
        assert entry["dtype"] == "F32", f"{name}: dtype {entry['dtype']}"
        begin, end = entry["data_offsets"]
        assert begin == covered, f"{name}: starts at {begin}, expected {covered}"
        values = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
        tensors.append({"name": name, "shape": list(values.shape),
                        "bits": values.view("<u4").ravel().tolist()})
        covered = end
    assert covered == len(data), f"tensors cover {covered} of {len(data)} data bytes"
    return {"data_start": 8 + n, "metadata": metadata, "tensors": tensors}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        print(json.dumps(read(sys.argv[1])))
    except (AssertionError, KeyError, ValueError, struct.error) as error:
        sys.exit(f"{sys.argv[1]}: {error}")
