#!/usr/bin/env python3
"""Writes the test fixtures for data of other shapes and formats (standard library only):

  Tests/Fixtures/colour-32/   IDX files (gzip) of 32 x 32 x 3 images in 4 classes, 240 training and
                              60 test images: class k is a coloured square (red, green, blue, white)
                              in quadrant k over a dim, seeded noise, so a small CNN learns it.
  Tests/Fixtures/mnist-small.npz
                              Keras's mnist.npz layout (x_train, y_train, x_test, y_test; uint8, deflated)
                              holding the first 1000 training and 200 test images of Tests/Fixtures/mnist-small.
"""
import gzip
import io
import os
import random
import struct
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")


def idx(dims, payload):
    return struct.pack(">I", 0x0800 | len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)


def colour_images(count, rng):
    colours = [(220, 30, 30), (30, 220, 30), (30, 30, 220), (220, 220, 220)]
    pixels, labels = bytearray(), bytearray()
    for i in range(count):
        k = rng.randrange(4)
        labels.append(k)
        top, left = (k // 2) * 16 + rng.randrange(4), (k % 2) * 16 + rng.randrange(4)
        for row in range(32):
            for column in range(32):
                inside = top <= row < top + 10 and left <= column < left + 10
                base = colours[k] if inside else (20, 20, 20)
                pixels.extend(c + rng.choice((0, 16)) for c in base)
    return pixels, labels


def write_colour(directory):
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(32)
    for prefix, count in (("train", 240), ("t10k", 60)):
        pixels, labels = colour_images(count, rng)
        for name, data in ((f"{prefix}-images-idx3-ubyte.gz", idx([count, 32, 32, 3], pixels)),
                           (f"{prefix}-labels-idx1-ubyte.gz", idx([count], labels))):
            with gzip.GzipFile(os.path.join(directory, name), "wb", mtime=0) as f:
                f.write(data)
    print(f"wrote {directory}")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [struct.unpack(">I", data[4 + 4 * i: 8 + 4 * i])[0] for i in range(rank)]
    return dims, data[4 + 4 * rank:]


def npy(descr, shape, payload):
    """Version 1.0 .npy bytes, the header padded so the data starts at a multiple of 64."""
    text = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, "".join(f"{d}, " for d in shape).rstrip(" ") if len(shape) == 1 else ", ".join(map(str, shape)))
    total = 10 + len(text) + 1
    text += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode() + bytes(payload)


def write_npz(path, source):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for split, prefix, limit in (("train", "train", 1000), ("test", "t10k", 200)):
            dims, images = read_idx(os.path.join(source, f"{prefix}-images-idx3-ubyte.gz"))
            _, labels = read_idx(os.path.join(source, f"{prefix}-labels-idx1-ubyte.gz"))
            size = dims[1] * dims[2]
            for name, data in ((f"x_{split}.npy", npy("|u1", [limit, dims[1], dims[2]], images[:limit * size])),
                               (f"y_{split}.npy", npy("|u1", [limit], labels[:limit]))):
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
    print(f"wrote {path}")


if __name__ == "__main__":
    write_colour(os.path.join(ROOT, "colour-32"))
    write_npz(os.path.join(ROOT, "mnist-small.npz"), os.path.join(ROOT, "mnist-small"))
