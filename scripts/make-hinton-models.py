#!/usr/bin/env python3
"""Writes recipes/hinton-mnist/{teacher,student}.json: the two MNIST networks of Hinton, Vinyals and
Dean (2015), section 3, exactly as Keras's `model.to_json()` writes them.

- teacher: 784-1200-1200-10 ReLU, "strongly regularized using dropout and weight-constraints" as in
  Hinton et al. (2012): dropout 20% on the inputs and 50% on each hidden layer, and a max-norm bound on
  each unit's incoming weight vector (Keras's MaxNorm over axis 0 of a Dense kernel [in, out]). The
  bound's value is not in either paper's text for this net; 3.5 is Srivastava et al. (2014)'s range (3 to 4).
- student: 784-800-800-10 ReLU with no regularisation.

Needs keras (any backend): python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
Run: /tmp/tfenv/bin/python scripts/make-hinton-models.py [output-dir]
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras import layers  # noqa: E402

MAX_NORM = 3.5


def teacher():
    keras.backend.clear_session()
    bound = dict(kernel_constraint=keras.constraints.MaxNorm(MAX_NORM, axis=0))
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(1200, activation="relu", **bound),
        layers.Dropout(0.5),
        layers.Dense(1200, activation="relu", **bound),
        layers.Dropout(0.5),
        layers.Dense(10, **bound),
    ], name="hinton_teacher")


def student():
    keras.backend.clear_session()
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Flatten(),
        layers.Dense(800, activation="relu"),
        layers.Dense(800, activation="relu"),
        layers.Dense(10),
    ], name="hinton_student")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "recipes", "hinton-mnist")
    os.makedirs(out, exist_ok=True)
    for name, make in (("teacher", teacher), ("student", student)):
        model = make()
        path = os.path.join(out, f"{name}.json")
        with open(path, "w") as f:
            f.write(model.to_json())
        print(f"wrote {path}: {model.count_params()} parameters (keras {keras.__version__})")


if __name__ == "__main__":
    main()
