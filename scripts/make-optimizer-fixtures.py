#!/usr/bin/env python3
"""Writes Tests/Fixtures/keras-optimizers/trajectories.json: Keras 3's own optimizers and
learning-rate schedules run for 1,200 steps on gradients both sides can draw exactly.

Each case is an optimizer as `keras.optimizers.serialize` writes it (its schedule inside),
the initial values of eight weights (a variable of six and one of two), the learning rate Keras used at every step, and the weights
after chosen steps: every 100th, and the steps around each schedule boundary, the end of the
warm-up and the end of the decay. The gradient of weight i at step t is
`(u / 2^23 - 1) * SCALES[i]`, u the top 24 bits of the next SplitMix64 output (seeded with the
case's seed, drawn step by step, weight by weight): exact in float32, so Swift draws the same.
Weight 7 always has a zero gradient (weight decay alone moves it).

Usage: KERAS_BACKEND=tensorflow python scripts/make-optimizer-fixtures.py (Keras 3.15, TensorFlow 2.21).
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras
import numpy as np

STEPS = 1200
SCALES = [1.0, 0.25, 4.0, 2.0 ** -6, 16.0, 2.0 ** -10, 0.5, 0.0]
INITIAL = [0.5, -1.5, 0.25, 2.0, -0.125, 1.0, -3.0, 0.75]
MASK = (1 << 64) - 1


def splitmix(seed):
    state = seed
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def short(x):
    """A float32 as its shortest decimal (read back as float32, it is the same number)."""
    return float(str(np.float32(x)))


def gradients(seed):
    draws = splitmix(seed)
    for _ in range(STEPS):
        yield np.array([((next(draws) >> 40) / 2.0 ** 23 - 1) * s for s in SCALES], dtype=np.float32)


S = keras.optimizers.schedules
CASES = [
    ("sgd", lambda: keras.optimizers.SGD(learning_rate=0.01), []),
    ("sgd-momentum-piecewise", lambda: keras.optimizers.SGD(
        learning_rate=S.PiecewiseConstantDecay([299, 699], [0.1, 0.01, 0.001]), momentum=0.9), [299, 699]),
    ("sgd-nesterov-decay-cosine-warmup", lambda: keras.optimizers.SGD(
        learning_rate=S.CosineDecay(0.0, 800, alpha=0.01, warmup_target=0.05, warmup_steps=100),
        momentum=0.9, nesterov=True, weight_decay=5e-4), [100, 900]),
    ("sgd-momentum-exponential", lambda: keras.optimizers.SGD(
        learning_rate=S.ExponentialDecay(0.05, 100, 0.9), momentum=0.5), []),
    ("adam", lambda: keras.optimizers.Adam(), []),
    ("adam-exponential-staircase", lambda: keras.optimizers.Adam(
        learning_rate=S.ExponentialDecay(0.01, 150, 0.5, staircase=True), beta_1=0.8, beta_2=0.99, epsilon=1e-5), [150, 300, 450]),
    ("adamw-cosine", lambda: keras.optimizers.AdamW(learning_rate=S.CosineDecay(0.003, 1000)), [1000]),
    ("adam-decay-cosine-alpha", lambda: keras.optimizers.Adam(
        learning_rate=S.CosineDecay(0.002, 700, alpha=0.1), weight_decay=0.01), [700]),
    ("sgd-momentum-global-clipnorm", lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, global_clipnorm=2.0), []),
    ("adam-clipnorm", lambda: keras.optimizers.Adam(learning_rate=0.01, clipnorm=0.5), []),
    ("sgd-clipvalue-decay", lambda: keras.optimizers.SGD(learning_rate=0.02, clipvalue=0.3, weight_decay=0.001), []),
]


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras-optimizers", "trajectories.json")
    cases = []
    for index, (name, make, boundaries) in enumerate(CASES):
        optimizer = make()
        # Two variables, as Swift's Dense(2) on 3 inputs holds them: a kernel of 6 and a bias of 2
        # (clipnorm clips each variable by its own norm).
        variables = [keras.Variable(np.array(INITIAL[:6], dtype=np.float32)), keras.Variable(np.array(INITIAL[6:], dtype=np.float32))]
        optimizer.build(variables)
        serialized = keras.optimizers.serialize(optimizer)
        watched = set(range(99, STEPS, 100)) | {b + d for b in boundaries for d in (-2, -1, 0, 1, 2)} | {STEPS - 1}
        rates, values = [], {}
        for step, gradient in enumerate(gradients(1000 + index)):
            rates.append(short(optimizer.learning_rate))
            optimizer.apply([keras.ops.convert_to_tensor(gradient[:6]), keras.ops.convert_to_tensor(gradient[6:])], variables)
            if step in watched:
                values[str(step + 1)] = [short(x) for v in variables for x in keras.ops.convert_to_numpy(v.value)]
        cases.append({"name": name, "optimizer": serialized, "seed": 1000 + index,
                      "rates": rates, "values": values})
        print(f"{name}: final {values[str(STEPS)][:3]}...", file=sys.stderr)
    fixture = {"keras": keras.__version__, "steps": STEPS, "scales": SCALES, "initial": INITIAL, "cases": cases}
    with open(out, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
