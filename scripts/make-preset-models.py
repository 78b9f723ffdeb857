#!/usr/bin/env python3
"""Writes Sources/Distill/Presets/<preset>-<role>.json (compiled into the binary): the Keras example's teacher and student (and the
`hidden` variant with one more Dense + LeakyReLU), exactly as Keras's `model.to_json()` writes
them. Each model is made after `clear_session()`, so its layer names start at conv2d, dense,
... as in the checkpoints swift-distill has always written.

Needs keras (any backend): python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
Run: /tmp/tfenv/bin/python scripts/make-preset-models.py [output-dir]
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras import layers  # noqa: E402


def model(name, f1, f2, hidden_units):
    keras.backend.clear_session()
    stack = [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(f1, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
        layers.Conv2D(f2, (3, 3), strides=(2, 2), padding="same"),
        layers.Flatten(),
    ]
    if hidden_units:
        stack += [layers.Dense(hidden_units), layers.LeakyReLU(negative_slope=0.2)]
    stack.append(layers.Dense(10))
    return keras.Sequential(stack, name=name)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Sources", "Distill", "Presets")
    presets = {
        ("keras", "teacher"): (256, 512, 0), ("keras", "student"): (16, 32, 0),
        ("hidden", "teacher"): (256, 512, 256), ("hidden", "student"): (16, 32, 32),
    }
    for (preset, role), (f1, f2, units) in presets.items():
        path = os.path.join(out, f"{preset}-{role}.json")
        with open(path, "w") as f:
            f.write(model(role, f1, f2, units).to_json())
        print(f"wrote {path} (keras {keras.__version__})")


if __name__ == "__main__":
    main()
