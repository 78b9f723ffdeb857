#!/usr/bin/env python3
"""Keras 3's weight constraints and regularisers on fixed weights, for WeightConstraintTests and
WeightRegularizerTests (no Keras needed in CI).

Writes Tests/Fixtures/keras-constraints/constraints.json: for each case, the constraint as a
model's to_json() writes it (read from a Dense or Conv2D layer's config), the weight's shape, the
weight (seeded, with values on both sides of zero and norms above and below max_value) and what
Keras's constraint returns for it. And regularizers.json: for each case, the regulariser as
to_json() writes it, the weight and Keras's penalty. Run with Keras 3 (TensorFlow backend):

    /tmp/tfenv/bin/python scripts/make-constraint-fixtures.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "keras-constraints", "constraints.json")


def layer_config(rule, kind, key="kernel_constraint"):
    """The constraint (or regulariser) exactly as a layer's config in model.to_json() holds it."""
    layer = keras.layers.Dense(3, **{key: rule}) if kind == "dense" else keras.layers.Conv2D(4, 3, **{key: rule})
    model = keras.Sequential([keras.Input((5,) if kind == "dense" else (6, 6, 2)), layer])
    return json.loads(model.to_json())["config"]["layers"][-1]["config"][key]


def regularizers(rng):
    cases = []
    for rule, kind, shape in [(keras.regularizers.L2(0.01), "dense", (5, 3)), (keras.regularizers.L1(0.02), "conv", (3, 3, 2, 4)),
                              (keras.regularizers.L1L2(l1=0.003, l2=0.05), "conv", (3, 3, 2, 4)), (keras.regularizers.L2(), "dense", (5, 3))]:
        weight = rng.uniform(-1, 1, shape).astype(np.float32)
        penalty = float(np.asarray(rule(keras.ops.convert_to_tensor(weight))))
        cases.append({"regularizer": layer_config(rule, kind, "kernel_regularizer"), "shape": list(shape),
                      "weight": weight.ravel().tolist(), "keras": penalty})
    return cases


def main():
    rng = np.random.default_rng(7)
    cases = []
    specs = [
        (keras.constraints.MaxNorm(2.0), "dense", (5, 3), 2.2),
        (keras.constraints.MaxNorm(1.0, axis=[0, 1, 2]), "conv", (3, 3, 2, 4), 0.6),
        (keras.constraints.MaxNorm(0.5, axis=-1), "dense", (5, 3), 1.0),
        (keras.constraints.UnitNorm(), "dense", (5, 3), 1.0),
        (keras.constraints.UnitNorm(axis=[0, 1, 2]), "conv", (3, 3, 2, 4), 1.0),
        (keras.constraints.NonNeg(), "conv", (3, 3, 2, 4), 1.0),
    ]
    for constraint, kind, shape, scale in specs:
        weight = (rng.uniform(-1, 1, shape) * scale).astype(np.float32)
        result = np.asarray(constraint(keras.ops.convert_to_tensor(weight)), dtype=np.float32)
        cases.append({"constraint": layer_config(constraint, kind), "shape": list(shape),
                      "weight": weight.ravel().tolist(), "keras": result.ravel().tolist()})
        changed = float(np.abs(result - weight).max())
        assert changed > 1e-3, f"{constraint}: the case does not change the weight ({changed})"
    with open(OUT, "w") as f:
        json.dump({"producer": f"keras {keras.__version__}", "cases": cases}, f, indent=1)
    print(f"wrote {OUT}: {len(cases)} cases")
    penalties = regularizers(rng)
    with open(OUT.replace("constraints.json", "regularizers.json"), "w") as f:
        json.dump({"producer": f"keras {keras.__version__}", "cases": penalties}, f, indent=1)
    print(f"wrote regularizers.json: {len(penalties)} cases")


if __name__ == "__main__":
    main()
