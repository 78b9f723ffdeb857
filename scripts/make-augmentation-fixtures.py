#!/usr/bin/env python3
"""Writes Tests/Fixtures/keras-augmentation/random-flip.json: Keras 3's own RandomFlip on fixed
draws, through its `transform_images` with a given transformation (which images flip), for each
mode, and in inference; and a model's JSON with RandomFlip then Rescaling, with Keras's output in
inference on the same raw pixels.

And random-translation.json: Keras 3's RandomTranslation through `transform_images` with given
translations (whole and fractional pixels, up to beyond the image), for every fill_mode and
interpolation, with fill_value 0.5; and a model's JSON with RandomTranslation (a number factor and a
[lower, upper] one) then Rescaling.

And random-zoom.json: RandomZoom likewise, with given zooms (in and out, unequal on the two axes),
and a model's JSON with RandomZoom (width_factor null: one zoom for both axes) then Rescaling.

And random-crop.json: Keras 3.15's RandomCrop through `transform_images` with given offsets
(h_start, w_start), one image at a time (Keras crops a whole batch at one offset); its deterministic
training path for targets the image does not exceed on both axes (the offsets of the aspect-ratio
window, a slice of the target's size, then a bilinear resize); `smart_resize` for inference (what
Keras documents; its 3.15 layer passes the input through in inference, asserted below); and a
model's JSON with RandomCrop, Rescaling, Conv2D, Flatten and Dense, with Keras's logits in training
on a target whose crop is deterministic.

Usage: KERAS_BACKEND=tensorflow python scripts/make-augmentation-fixtures.py (Keras 3.15).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras
import numpy as np

BATCH, HEIGHT, WIDTH, CHANNELS = 3, 4, 5, 2
FLIPS = [True, False, True]


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras-augmentation", "random-flip.json")
    # Every value distinct, so a wrong index shows: 1 + 1000 b + 100 y + 10 x + c.
    b, y, x, c = np.meshgrid(range(BATCH), range(HEIGHT), range(WIDTH), range(CHANNELS), indexing="ij")
    images = (1 + 1000 * b + 100 * y + 10 * x + c).astype(np.float32)
    flips = np.array(FLIPS).reshape(BATCH, 1, 1, 1)
    cases = []
    for mode in ["horizontal", "vertical", "horizontal_and_vertical"]:
        layer = keras.layers.RandomFlip(mode)
        flipped = layer.transform_images(images, {"flips": flips, "input_shape": images.shape}, training=True)
        inference = layer(images, training=False)
        assert np.array_equal(keras.ops.convert_to_numpy(inference), images)
        cases.append({"mode": mode, "output": keras.ops.convert_to_numpy(flipped).reshape(-1).tolist()})
    # A model that flips then rescales raw pixels, as Keras users write it.
    model = keras.Sequential([keras.Input((HEIGHT, WIDTH, CHANNELS)), keras.layers.RandomFlip("horizontal"),
                              keras.layers.Rescaling(1 / 255.0, offset=-0.5), keras.layers.Flatten(), keras.layers.Dense(3)])
    model.layers[-1].set_weights([np.linspace(-1, 1, HEIGHT * WIDTH * CHANNELS * 3, dtype=np.float32).reshape(-1, 3),
                                  np.array([0.1, -0.2, 0.3], dtype=np.float32)])
    pixels = (images % 256).astype(np.float32)
    fixture = {"keras": keras.__version__, "shape": [BATCH, HEIGHT, WIDTH, CHANNELS], "flips": FLIPS,
               "images": images.reshape(-1).tolist(), "cases": cases, "model": json.loads(model.to_json()),
               "kernel": model.layers[-1].get_weights()[0].reshape(-1).tolist(), "bias": model.layers[-1].get_weights()[1].tolist(),
               "pixels": pixels.reshape(-1).tolist(),
               "logits": keras.ops.convert_to_numpy(model(pixels, training=False)).reshape(-1).tolist()}
    with open(out, "w") as f:
        json.dump(fixture, f)
        f.write("\n")


def translation():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras-augmentation", "random-translation.json")
    b, y, x, c = np.meshgrid(range(BATCH), range(HEIGHT), range(WIDTH), range(CHANNELS), indexing="ij")
    images = ((1 + 1000 * b + 100 * y + 10 * x + c) / 1000.0).astype(np.float32)
    # (dx, dy) per image: a whole shift, a fractional one, one past the image's size (reflect and wrap fold twice).
    translations = np.array([[2.0, -1.0], [-1.25, 0.6], [7.3, -5.5]], dtype=np.float32)
    cases = []
    for fill_mode in ["reflect", "wrap", "constant", "nearest"]:
        for interpolation in ["bilinear", "nearest"]:
            layer = keras.layers.RandomTranslation(0.5, 0.5, fill_mode=fill_mode, interpolation=interpolation, fill_value=0.5)
            moved = layer.transform_images(images, {"translations": translations, "input_shape": images.shape}, training=True)
            assert np.array_equal(keras.ops.convert_to_numpy(layer(images, training=False)), images)
            cases.append({"fill_mode": fill_mode, "interpolation": interpolation,
                          "output": keras.ops.convert_to_numpy(moved).reshape(-1).tolist()})
    model = keras.Sequential([keras.Input((HEIGHT, WIDTH, CHANNELS)),
                              keras.layers.RandomTranslation(0.1, [-0.2, 0.3], fill_mode="constant", fill_value=0.5),
                              keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(), keras.layers.Dense(3)])
    fixture = {"keras": keras.__version__, "shape": [BATCH, HEIGHT, WIDTH, CHANNELS], "translations": translations.tolist(),
               "images": images.reshape(-1).tolist(), "cases": cases, "model": json.loads(model.to_json())}
    with open(out, "w") as f:
        json.dump(fixture, f)
        f.write("\n")


def zoom():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras-augmentation", "random-zoom.json")
    b, y, x, c = np.meshgrid(range(BATCH), range(HEIGHT), range(WIDTH), range(CHANNELS), indexing="ij")
    images = ((1 + 1000 * b + 100 * y + 10 * x + c) / 1000.0).astype(np.float32)
    # (zx, zy) per image: zoom in on both axes, zoom out on one, in on the other, and out on both.
    zooms = np.array([[0.75, 0.6], [1.3, 0.85], [1.7, 1.45]], dtype=np.float32)
    cases = []
    for fill_mode in ["reflect", "wrap", "constant", "nearest"]:
        for interpolation in ["bilinear", "nearest"]:
            layer = keras.layers.RandomZoom(0.5, 0.5, fill_mode=fill_mode, interpolation=interpolation, fill_value=0.5)
            moved = layer.transform_images(images, {"width_zoom": zooms[:, 0:1], "height_zoom": zooms[:, 1:2],
                                                    "input_shape": images.shape}, training=True)
            assert np.array_equal(keras.ops.convert_to_numpy(layer(images, training=False)), images)
            cases.append({"fill_mode": fill_mode, "interpolation": interpolation,
                          "output": keras.ops.convert_to_numpy(moved).reshape(-1).tolist()})
    model = keras.Sequential([keras.Input((HEIGHT, WIDTH, CHANNELS)), keras.layers.RandomZoom([-0.2, 0.3], fill_mode="constant"),
                              keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten(), keras.layers.Dense(3)])
    fixture = {"keras": keras.__version__, "shape": [BATCH, HEIGHT, WIDTH, CHANNELS], "zooms": zooms.tolist(),
               "images": images.reshape(-1).tolist(), "cases": cases, "model": json.loads(model.to_json())}
    with open(out, "w") as f:
        json.dump(fixture, f)
        f.write("\n")


def crop():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "keras-augmentation", "random-crop.json")
    height, width = 6, 7
    b, y, x, c = np.meshgrid(range(BATCH), range(height), range(width), range(CHANNELS), indexing="ij")
    images = ((1 + 1000 * b + 100 * y + 10 * x + c) / 1000.0).astype(np.float32)
    # (h_start, w_start) per image for a 4 x 5 crop: both corners and one between.
    offsets = [[0, 0], [2, 2], [1, 0]]
    layer = keras.layers.RandomCrop(4, 5)
    cropped = [keras.ops.convert_to_numpy(layer.transform_images(images[i:i + 1], tuple(offsets[i]), training=True))
               for i in range(BATCH)]
    # Targets the 6 x 7 image does not exceed on both axes: equal height, larger on both, larger on one;
    # then two it does exceed (inference only); and the image's own size.
    resizes, inference = [], []
    for target in [[6, 5], [8, 9], [4, 9], [9, 3], [10, 4], [4, 5], [3, 3], [6, 7]]:
        layer = keras.layers.RandomCrop(*target)
        passed = keras.ops.convert_to_numpy(layer(images, training=False))
        assert np.array_equal(passed, images), "Keras 3.15's RandomCrop passes the input through in inference"
        if not (height > target[0] and width > target[1]):   # no random draw: the training path is fixed
            trained = keras.ops.convert_to_numpy(layer(images, training=True))
            assert np.array_equal(trained, keras.ops.convert_to_numpy(layer(images, training=True)))
            resizes.append({"target": target, "output": trained.reshape(-1).tolist()})
        smart = np.asarray(keras.preprocessing.image.smart_resize(images, target), dtype=np.float32)
        inference.append({"target": target, "output": smart.reshape(-1).tolist()})
    model = keras.Sequential([keras.Input((height, width, CHANNELS)), keras.layers.RandomCrop(6, 5, seed=1),
                              keras.layers.Rescaling(1 / 255.0), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(3)])
    conv, dense = model.layers[2], model.layers[4]
    conv.set_weights([np.linspace(-1, 1, 3 * 3 * CHANNELS * 2, dtype=np.float32).reshape(3, 3, CHANNELS, 2),
                      np.array([0.05, -0.1], dtype=np.float32)])
    dense.set_weights([np.linspace(-0.5, 0.5, 4 * 3 * 2 * 3, dtype=np.float32).reshape(-1, 3), np.array([0.1, -0.2, 0.3], dtype=np.float32)])
    pixels = (images * 1000 % 256).astype(np.float32)
    fixture = {"keras": keras.__version__, "shape": [BATCH, height, width, CHANNELS], "images": images.reshape(-1).tolist(),
               "offsets": offsets, "crops": np.concatenate(cropped).reshape(-1).tolist(), "resizes": resizes,
               "inference": inference, "model": json.loads(model.to_json()),
               "weights": [w.reshape(-1).tolist() for w in model.get_weights()], "pixels": pixels.reshape(-1).tolist(),
               "logits": keras.ops.convert_to_numpy(model(pixels, training=True)).reshape(-1).tolist()}
    with open(out, "w") as f:
        json.dump(fixture, f)
        f.write("\n")


if __name__ == "__main__":
    main()
    translation()
    zoom()
    crop()
