"""The checksum swift-distill keeps in a checkpoint's metadata (`checksum`), for files written in Python.

FNV-1a over 64-bit words, as Sources/NN/ContentHash.swift and Sources/NN/SafeTensors+Checksum.swift:
for each tensor in file order its name (each UTF-8 byte, then the byte count), its dimensions, its
float32 bit patterns (then their count); then the metadata's keys and values in sorted key order.

    python3 scripts/swift_distill_checksum.py FILE.safetensors   # prints stored and computed checksums
"""
import json
import struct
import sys

import numpy as np

MASK = (1 << 64) - 1
PRIME = 0x100000001B3
OFFSET = 0xCBF29CE484222325


class ContentHash:
    def __init__(self):
        self.value = OFFSET

    def word(self, w):
        self.value = ((self.value ^ w) * PRIME) & MASK

    def text(self, s):
        data = s.encode("utf-8")
        for b in data:
            self.word(b)
        self.word(len(data))

    def floats(self, bits):
        for w in bits.tolist():
            self.word(w)
        self.word(len(bits))


def checksum(tensors, metadata):
    """`tensors`: (name, shape, float32 array) in file order; `metadata` without its checksum."""
    h = ContentHash()
    for name, shape, values in tensors:
        h.text(name)
        for d in shape:
            h.word(d)
        h.floats(np.ascontiguousarray(values, dtype="<f4").reshape(-1).view("<u4"))
    for key in sorted(metadata):
        h.text(key)
        h.text(metadata[key])
    return f"{h.value:016x}"


def read(path):
    """The tensors in file order and the metadata of a safetensors file (float32 only)."""
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    entries = sorted(header.items(), key=lambda kv: (kv[1]["data_offsets"], kv[0]))
    tensors = [(name, e["shape"], np.frombuffer(data[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]], dtype="<f4"))
               for name, e in entries]
    return tensors, metadata


def file_checksum(path):
    tensors, metadata = read(path)
    unsigned = {k: v for k, v in metadata.items() if k != "checksum"}
    return metadata.get("checksum"), checksum(tensors, unsigned)


if __name__ == "__main__":
    stored, computed = file_checksum(sys.argv[1])
    print(f"stored {stored}\ncomputed {computed}")
    sys.exit(0 if stored == computed else 1)
