#!/usr/bin/env python3
"""Writes Tests/Fixtures/keras-optimizers/early-stopping.json: what Keras 3's own
EarlyStopping(monitor, patience, restore_best_weights=True) decides on given sequences of
validation values: after which epoch it stops (or none) and which epoch's weights it restores.
Each epoch's weights are set to the epoch's number, so the restored weight names the epoch.

Usage: KERAS_BACKEND=tensorflow python scripts/make-early-stopping-fixtures.py (Keras 3.15).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras
import numpy as np

SEQUENCES = [
    ("val_loss", [1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.76, 0.9], [None, 0, 1, 2, 3]),
    ("val_loss", [0.5, 0.5, 0.5, 0.4, 0.4], [None, 0, 1]),          # equal is no improvement
    ("val_accuracy", [0.5, 0.6, 0.6, 0.7, 0.65, 0.64, 0.8], [None, 0, 1, 2]),
    ("val_loss", [2.0, 1.0, 0.5, 0.25], [None, 0, 1]),              # improving throughout
    ("val_loss", [1.0, 3.0, 2.0, 1.5, 1.2, 1.1], [None, 0, 2, 4]),  # never better than the first
]


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras-optimizers", "early-stopping.json")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    cases = []
    for monitor, values, patiences in SEQUENCES:
        for patience in patiences:
            callback = keras.callbacks.EarlyStopping(monitor=monitor, mode="max" if "accuracy" in monitor else "min",
                                                     patience=patience if patience is not None else 10 ** 9,
                                                     restore_best_weights=True)
            callback.set_model(model)
            model.stop_training = False
            callback.on_train_begin()
            trained = 0
            for epoch, value in enumerate(values):
                model.set_weights([np.array([[epoch + 1.0]], dtype=np.float32)])
                callback.on_epoch_end(epoch, {monitor: value})
                trained = epoch + 1
                if model.stop_training:
                    break
            callback.on_train_end()
            restored = int(round(float(model.get_weights()[0][0, 0])))
            cases.append({"monitor": monitor, "values": values, "patience": patience, "epochs_trained": trained,
                          "restored_epoch": restored})
    with open(out, "w") as f:
        json.dump({"keras": keras.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
