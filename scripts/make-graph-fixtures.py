#!/usr/bin/env python3
"""Keras fixtures for functional (graph) models: Tests/Fixtures/keras-graph/.

For each of eighteen models -- `residual`, `mobilenet-like`, `grouped`, `sequential-new-layers` and `more-layers` (small
models for 28x28x1 written here; `grouped` has Conv2D with groups, `sequential-new-layers` is a Sequential of the layers
the EfficientNets and ConvNeXt brought, `more-layers` has the activations, merges, noise and normalisation layers
beyond the applications'), and keras.applications' `mobilenetv2` (MobileNetV2, alpha 0.35), `resnet50v2`
(ResNet50V2), `mobilenetv3small` (MobileNetV3Small, without its preprocessing), `nasnetmobile` (NASNetMobile),
`resnet50` (ResNet50), `efficientnetb0` (EfficientNetB0), `efficientnetv2b0` (EfficientNetV2B0),
`convnexttiny` (ConvNeXtTiny), `mobilenet` (MobileNet, alpha 0.25) and `densenet121` (DenseNet121), at 32x32x3,
and at their smallest inputs `inceptionresnetv2` (InceptionResNetV2) and `inceptionv3` (InceptionV3) at 75x75x3
and `xception` (Xception) at 71x71x3, all with 10 logits and no final softmax -- it writes

  <name>.json      exactly model.to_json()
  <name>-io.json   {"model", "keras", "tensorflow", "weights": [...], "input_shape": [4, H, W, C],
                    "inputs": [4][H][W][C] floats, "logits": [4][10] floats}
                   the logits are Keras's model(x, training=False) for the inputs; "pixels": true when
                   the inputs are pixel values 0-255 that the model rescales itself (PIXEL_INPUTS:
                   swift-distill is then given them as its loader gives pixels, x / 255). "weights" lists
                   every weight as {"name": "<layer>.<weight>", "shape": [...], "first": [first 3
                   values], "sum": float64 sum of all values} so a reimplementation of the formula
                   can be checked weight by weight before the logits are compared.
  <name>-step.json one training step (training=True, every Dropout's rate 0, labels STEP_LABELS, the mean sparse
                   categorical cross-entropy of the logits) in float64: the loss, and per trainable weight its
                   gradient's norm and projection on a unit probe vector (the formula's u for "<layer>.<weight>/probe"),
                   per moving statistic the same of its value after the step, each with the largest distance of
                   Keras's float32 step from it over four batch orders (--step-only writes these alone).

No weight is stored: every weight is set by the formula below, which a test recomputes from the
layer's name, the weight's name and its shape alone (no dependence on the order of the weights).
Inputs are made by a formula too, but stored (rounded to 2 decimals, so they are short in JSON and
the same float32 after parsing), so a test does not need to recompute them: MNIST-like rings and
strokes in [0, 1] for `residual`, the same images as 2x - 1 in [-1, 1] (MobileNet's preprocessing
range) for `mobilenet-like`, and colour waves and blobs in [-1, 1] for the applications models (times 10
for MobileNetV3Small; as integer pixel values 0-255, (x + 1) * 127.5 rounded, for the EfficientNets,
whose first layers are Rescaling(1 / 255) and Normalization).

WEIGHT FORMULA (all integer arithmetic on unsigned 32 bits, wrapping; all real arithmetic in IEEE
float64 with round-to-nearest-even, except the one final rounding to float32; no libm call but sqrt,
so a reimplementation gives the same float32 bits):

  key    = "<layer name>/<weight name>"        e.g. "conv1_conv/kernel", "bn_Conv1/moving_variance"
  h      = FNV-1a-32 over the UTF-8 bytes of key:
             h = 2166136261; for each byte b: h = (h XOR b) * 16777619   (mod 2^32)
  shape  = the weight's Keras shape [s0, ..., s(r-1)];  n = s0 * ... * s(r-1)  (n = 1 for r = 0)
  for i = 0 ..< n, i being the row-major (C order, last axis fastest) position in the Keras shape:
    x    = h + i * 2654435769                                               (mod 2^32)
    x    = x XOR (x >> 16);  x = x * 2246822507 (mod 2^32)
    x    = x XOR (x >> 13);  x = x * 3266489909 (mod 2^32)
    x    = x XOR (x >> 16)                                    (MurmurHash3's fmix32)
    u    = (Double(x) / 4294967296.0) * 2.0 - 1.0             (exact; u in [-1, 1))
    w[i] = Float32(base + amplitude * u)      (float64 multiply, then float64 add, then one
                                               rounding to float32, nearest-even)
  base and amplitude by the weight name (nothing else; any other weight name is an error):
    kernel, depthwise_kernel, pointwise_kernel:
                       base 0, amplitude = sqrt(GAIN / Double(fan_in)), GAIN = 4.2  (float64 divide, sqrt;
                       GAINS below for the EfficientNets, written to <name>-io.json as "gain")
                       fan_in = s0 * s1 (the window) if the weight name is depthwise_kernel, or it is
                                a rank-4 "kernel" whose last dimension is 1 (a DepthwiseConv2D kernel
                                [kh, kw, C, depth_multiplier=1]);
                              = the product of all dimensions but the last otherwise (Conv2D
                                [kh, kw, Cin, Cout] -> kh*kw*Cin, Dense [in, out] -> in).
                       (The script asserts no Conv2D in the fixtures has 1 filter and every
                       DepthwiseConv2D has depth_multiplier 1, so the rule is unambiguous here.)
    bias:              base 0,    amplitude 0.1
    gamma:             base 1.0,  amplitude 0.25    (in [0.75, 1.25))
    beta:              base 0,    amplitude 0.1
    moving_mean:       base 0,    amplitude 0.1
    moving_variance:   base 1.0,  amplitude 0.5     (in [0.5, 1.5): strictly positive)
    mean:              base 0.5,  amplitude 0.1     (Normalization's adapt weights, for pixels / 255:
    variance:          base 0.06, amplitude 0.02     a deviation near ImageNet's 0.23-0.26)
    count:             base 0,    amplitude 0       (Normalization's int64 count: 0, unused by its call)
    variable:          base 0.5,  amplitude 0.25    (ConvNeXt's LayerScale: its unnamed weight; 1e-6 at
                                                     init would turn every residual branch off)
  LayerNormalization's gamma and beta take BatchNormalization's settings.

  GAIN 4.2 (between LeCun's 3 and He's 6 for a uniform law): with He's 6, ResNet50V2's residual
  stream doubles in variance at each of its 16 blocks (logits ~200); with 3, every ReLU halves the
  MobileNets' activations and no ReLU6 ever reaches 6. 4.2 keeps every layer's output between 0.3
  and 4 in root mean square in all four models, and some ReLU6 outputs at the cap.

  (A plain sin(0.37 * i + phase) over the flattened kernel was considered and not used: for a
  kernel [.., Cin, Cout] it is sin(a*c + b*d + phase), a rank-2 matrix in (c, d), so every conv would
  span two output directions; and it needs libm's sin, which differs by an ulp between libraries.)

KERAS 3 WEIGHT NAMES (variable.path is "<layer name>/<weight name>"; swift-distill names the
parameter "<layer name>.<weight name>"):
  Conv2D              kernel [kh, kw, Cin, Cout], bias [Cout] (if use_bias)
  DepthwiseConv2D     kernel [kh, kw, C, depth_multiplier], bias [C * depth_multiplier] (if use_bias)
  SeparableConv2D     depthwise_kernel [kh, kw, C, depth_multiplier],
                      pointwise_kernel [1, 1, C * depth_multiplier, filters], bias [filters]
  BatchNormalization  gamma, beta, moving_mean, moving_variance [C]  (in that order in layer.weights)
  Dense               kernel [in, out], bias [out]
The script prints them for every model (--names) and asserts they are the only ones.

ASSERTIONS: logits are finite, of magnitude 0.1 .. 10 (root mean square and largest), differ
between the 4 images and between the 10 classes; every layer's output stays within 1e-2 .. 1e2 in
root mean square; and the fixtures are sensitive to what they claim to test (by more than 1e-2 in
the largest logit difference, all with the same weights, as the formula is by name):
  mobilenet-like: every ReLU(max_value=6) replaced by ReLU(); each ZeroPadding2D ((0,1),(0,1))
                  replaced by symmetric ((1,1),(1,1)) or by the mirrored ((1,0),(1,0)) (these two
                  give the same logits, asserted: a 3x3 stride-2 valid window never reads the last
                  padded row and column here, so a loader that swaps (before, after) fails alike);
                  the Dropout layer does nothing in inference (removing it changes nothing);
  residual:       each Add's shortcut removed (the block's output is its residual branch alone);
  efficientnetb0: Normalization's adapt weights (set by the formula) replaced by mean 0, variance 1.

Needs: python3 -m venv /work/venv-keras && /work/venv-keras/bin/pip install tensorflow-cpu keras
Run:   /work/venv-keras/bin/python scripts/make-graph-fixtures.py [--output DIR] [--names]
"""
import argparse
import contextlib
import json
import math
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import warnings  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

# model(x) with one array for a one-input model: Keras 3 warns that [x] was expected; it is the same.
warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "keras-graph")
GAIN = 4.2
# A larger gain for the models whose swishes and squeeze-and-excitation gates (the EfficientNets), or depth (MobileNet,
# InceptionV3), shrink the signal block by block until the logits are tiny or every image gives the same ones
# (written to <name>-io.json as "gain").
GAINS = {"efficientnetb0": 6.5, "efficientnetv2b0": 5.5, "mobilenet": 8.0, "inceptionv3": 6.0,
         # and a smaller one for Xception, whose residual stream grows block by block (logits ~40 at 4.2)
         "xception": 3.0}
SETTINGS = {  # weight name -> (base, amplitude); None: the kernel amplitude sqrt(GAIN / fan_in)
    "kernel": (0.0, None), "depthwise_kernel": (0.0, None), "pointwise_kernel": (0.0, None),
    "bias": (0.0, 0.1),
    "gamma": (1.0, 0.25), "beta": (0.0, 0.1),
    "moving_mean": (0.0, 0.1), "moving_variance": (1.0, 0.5),
    "mean": (0.5, 0.1), "variance": (0.06, 0.02), "count": (0.0, 0.0),
    "variable": (0.5, 0.25),
    "alpha": (0.25, 0.1),   # PReLU's slopes
    "scale": (1.0, 0.25),   # RMSNormalization's
}
SENSITIVITY = 1e-2


# ---------------------------------------------------------------- the weight formula

def fnv1a32(text):
    h = 2166136261
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def fan_in(weight_name, shape):
    if weight_name == "depthwise_kernel" or (weight_name == "kernel" and len(shape) == 4 and shape[3] == 1):
        return shape[0] * shape[1]
    return int(np.prod(shape[:-1]))


def uniform(key, n):
    """n float64 values in [-1, 1) from the key's FNV-1a-32 hash, by the formula's integer steps (exact)."""
    h = np.uint64(fnv1a32(key))
    mask = np.uint64(0xFFFFFFFF)
    x = (h + np.arange(n, dtype=np.uint64) * np.uint64(2654435769)) & mask
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(2246822507)) & mask
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(3266489909)) & mask
    x ^= x >> np.uint64(16)
    return (x.astype(np.float64) / 4294967296.0) * 2.0 - 1.0


def formula_weight(layer_name, weight_name, shape):
    """The weight's values (float32, Keras shape) by the docstring's formula."""
    if weight_name not in SETTINGS:
        raise SystemExit(f"{layer_name}/{weight_name}: no formula for this weight name")
    shape = tuple(int(s) for s in shape)
    base, amplitude = SETTINGS[weight_name]
    if amplitude is None:
        amplitude = math.sqrt(GAIN / float(fan_in(weight_name, shape)))
    n = int(np.prod(shape)) if shape else 1
    values = (base + amplitude * uniform(f"{layer_name}/{weight_name}", n)).astype(np.float32)
    return values.reshape(shape)


def weight_name(variable):
    """'kernel' for the path 'conv1/kernel'. An unnamed add_weight (ConvNeXt's LayerScale) is 'variable',
    'variable_1', ... by its order in the session: 'variable' for all, as swift-distill names it."""
    name = variable.path.split("/")[-1]
    return "variable" if name.startswith("variable_") and name[len("variable_"):].isdigit() else name


def leaf_layers(model):
    """The layers that hold weights, a nested Sequential (ConvNeXt's stem and downsampling) expanded, as
    swift-distill expands it and names each weight by its own layer."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def set_formula_weights(model):
    """Every weight of every layer by the formula; returns the manifest [(name, shape, values)]."""
    manifest = []
    for layer in leaf_layers(model):
        for variable in layer.weights:
            name = weight_name(variable)
            values = formula_weight(layer.name, name, variable.shape)
            variable.assign(values.astype(variable.dtype))   # Normalization's count is int64
            manifest.append((f"{layer.name}.{name}", list(values.shape), values))
        finalize(layer)
    return manifest


def finalize(layer):
    """Normalization reads its adapt weights (mean, variance) into the tensors its call uses only in
    finalize_state, which loading a saved model calls but assigning a variable does not."""
    if hasattr(layer, "finalize_state"):
        layer.finalize_state()


def check_fan_in_rule(model):
    for layer in leaf_layers(model):
        kind = type(layer).__name__
        if kind == "Conv2D":
            assert layer.filters != 1, f"{layer.name}: a Conv2D with 1 filter would be taken as depthwise by the fan-in rule"
        if kind in ("DepthwiseConv2D", "SeparableConv2D"):
            assert layer.depth_multiplier == 1, f"{layer.name}: depth_multiplier must be 1 for the fan-in rule"


# ---------------------------------------------------------------- inputs

def digit_like_images():
    """[4, 28, 28, 1] in [0, 1], MNIST-like: a bright ring or stroke on a dark, slightly textured ground."""
    h, w = np.meshgrid(np.arange(28, dtype=np.float64), np.arange(28, dtype=np.float64), indexing="ij")
    images = []
    for n in range(4):
        cy, cx = 13.5 + 2.5 * math.sin(1.3 * n + 0.4), 13.5 + 2.5 * math.cos(0.9 * n + 1.1)
        radius, width = 6.0 + 1.5 * n, 1.6 + 0.3 * n
        r = np.hypot(h - cy, w - cx)
        ring = np.exp(-((r - radius) ** 2) / (2 * width ** 2))
        stroke = np.exp(-(((h - cy) * math.cos(0.7 * n) - (w - cx) * math.sin(0.7 * n)) ** 2) / 3.0) * (np.abs(h - cy) < 9)
        texture = 0.08 * (1 + np.sin(0.61 * h * (n + 1) + 0.37 * w + n))
        value = np.clip(1.1 * np.maximum(ring, (n % 2) * stroke) + texture, 0.0, 1.0)
        images.append(value[:, :, None])
    return np.round(np.stack(images), 2).astype(np.float32)


def colour_images(size=32):
    """[4, size, size, 3] in [-1, 1], the range of MobileNetV2's and ResNet50V2's preprocess_input."""
    h, w, c = np.meshgrid(np.arange(float(size)), np.arange(float(size)), np.arange(3.0), indexing="ij")
    images = []
    for n in range(4):
        wave = np.sin(0.19 * (n + 1) * h + 0.23 * w + 1.1 * c + 0.7 * n) * np.cos(0.13 * (w - h * (n - 1.5)) + 0.5 * c)
        blob = np.exp(-((h - 10 - 4 * n) ** 2 + (w - 20 + 3 * n) ** 2) / (40.0 + 10 * c))
        images.append(np.clip(0.8 * wave + 0.9 * blob - 0.2, -1.0, 1.0))
    return np.round(np.stack(images), 2).astype(np.float32)


# ---------------------------------------------------------------- the models

def residual_model(shortcut=(True, True)):
    """Stem, an identity block (Add), a projection block (1x1 stride-2 shortcut, Add), GAP, Dense(10).
    shortcut[k] False drops block k's shortcut (its output is the residual branch alone)."""
    keras.utils.clear_session()
    image = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem_conv")(image)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)

    y = layers.Conv2D(16, 3, padding="same", name="block1_conv1")(x)
    y = layers.BatchNormalization(name="block1_bn1")(y)
    y = layers.ReLU(name="block1_relu1")(y)
    y = layers.Conv2D(16, 3, padding="same", name="block1_conv2")(y)
    y = layers.BatchNormalization(name="block1_bn2")(y)
    x = layers.Add(name="block1_add")([x, y]) if shortcut[0] else y
    x = layers.Activation("relu", name="block1_out")(x)

    y = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="block2_conv1")(x)
    y = layers.BatchNormalization(name="block2_bn1")(y)
    y = layers.ReLU(name="block2_relu1")(y)
    y = layers.Conv2D(32, 3, padding="same", use_bias=False, name="block2_conv2")(y)
    y = layers.BatchNormalization(name="block2_bn2")(y)
    if shortcut[1]:
        s = layers.Conv2D(32, 1, strides=2, name="block2_shortcut")(x)
        s = layers.BatchNormalization(name="block2_shortcut_bn")(s)
        x = layers.Add(name="block2_add")([s, y])
    else:
        x = y
    x = layers.Activation("relu", name="block2_out")(x)

    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(0.25, name="dropout")(x)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(image, logits, name="residual")


def mobilenet_like_model(relu6=True, pads=(((0, 1), (0, 1)), ((0, 1), (0, 1))), dropout=True):
    """MobileNetV2-style: an asymmetric ZeroPadding2D before a stride-2 valid conv (stem and block 2),
    ReLU6, inverted residual blocks (1x1 expand, DepthwiseConv2D, linear 1x1 project, Add when the
    shape allows), a SeparableConv2D, a 1x1 head, GAP, Dropout, Dense(10)."""
    keras.utils.clear_session()

    def act(name):
        return layers.ReLU(6.0, name=name) if relu6 else layers.ReLU(name=name)

    image = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.ZeroPadding2D(pads[0], name="stem_pad")(image)
    x = layers.Conv2D(16, 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)   # 14x14
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = act("stem_relu6")(x)

    # block 1: stride 1, 16 -> 16, Add
    y = layers.Conv2D(48, 1, use_bias=False, name="block1_expand")(x)
    y = layers.BatchNormalization(name="block1_expand_bn")(y)
    y = act("block1_expand_relu6")(y)
    y = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="block1_depthwise")(y)
    y = layers.BatchNormalization(name="block1_depthwise_bn")(y)
    y = act("block1_depthwise_relu6")(y)
    y = layers.Conv2D(16, 1, use_bias=False, name="block1_project")(y)
    y = layers.BatchNormalization(name="block1_project_bn")(y)
    x = layers.Add(name="block1_add")([x, y])

    # block 2: stride 2 by asymmetric padding + valid depthwise, 16 -> 24
    y = layers.Conv2D(64, 1, use_bias=False, name="block2_expand")(x)
    y = layers.BatchNormalization(name="block2_expand_bn")(y)
    y = act("block2_expand_relu6")(y)
    y = layers.ZeroPadding2D(pads[1], name="block2_pad")(y)
    y = layers.DepthwiseConv2D(3, strides=2, padding="valid", use_bias=False, name="block2_depthwise")(y)  # 7x7
    y = layers.BatchNormalization(name="block2_depthwise_bn")(y)
    y = act("block2_depthwise_relu6")(y)
    y = layers.Conv2D(24, 1, use_bias=False, name="block2_project")(y)
    x = layers.BatchNormalization(name="block2_project_bn")(y)

    # blocks 3 and 4: stride 1, 24 -> 24, Add (a stage of repeated blocks, as in MobileNetV2);
    # block 3's depthwise has a bias and no BatchNormalization after it
    for block in (3, 4):
        p = f"block{block}"
        y = layers.Conv2D(144, 1, use_bias=False, name=f"{p}_expand")(x)
        y = layers.BatchNormalization(name=f"{p}_expand_bn")(y)
        y = act(f"{p}_expand_relu6")(y)
        y = layers.DepthwiseConv2D(3, padding="same", use_bias=block == 3, name=f"{p}_depthwise")(y)
        if block != 3:
            y = layers.BatchNormalization(name=f"{p}_depthwise_bn")(y)
        y = act(f"{p}_depthwise_relu6")(y)
        y = layers.Conv2D(24, 1, use_bias=False, name=f"{p}_project")(y)
        y = layers.BatchNormalization(name=f"{p}_project_bn")(y)
        x = layers.Add(name=f"{p}_add")([x, y])

    x = layers.SeparableConv2D(32, 3, padding="same", name="separable")(x)
    x = layers.BatchNormalization(name="separable_bn")(x)
    x = act("separable_relu6")(x)
    x = layers.Conv2D(64, 1, use_bias=False, name="head_conv")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = act("head_relu6")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout:
        x = layers.Dropout(0.2, name="dropout")(x)
    logits = layers.Dense(10, name="logits")(x)
    return keras.Model(image, logits, name="mobilenet_like")


def mobilenetv2_model():
    keras.utils.clear_session()
    return keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=10,
                                          classifier_activation=None)


def resnet50v2_model():
    keras.utils.clear_session()
    return keras.applications.ResNet50V2(input_shape=(32, 32, 3), weights=None, classes=10,
                                         classifier_activation=None)


def mobilenetv3small_model():
    """Its hard sigmoid is Python arithmetic on Keras tensors, `relu6(x + 3.0) * (1 / 6)`, which to_json() records
    as keras.src.ops.numpy Add and Multiply layers with a number argument. Without its Rescaling
    (include_preprocessing=False), fed the colour images times 10: in [-1, 1] its hard swishes (about x / 2
    near 0) shrink the signal layer after layer until every image gives the same logits."""
    keras.utils.clear_session()
    model = keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None, classes=10,
                                                classifier_activation=None, include_preprocessing=False)
    with_number = [entry for entry in json.loads(model.to_json())["config"]["layers"]
                   if entry["module"] == "keras.src.ops.numpy"
                   and any(isinstance(arg, (int, float)) for arg in entry["inbound_nodes"][0]["args"])]
    assert {entry["class_name"] for entry in with_number} == {"Add", "Multiply"}, "MobileNetV3Small: no operation with a number"
    return model


def nasnetmobile_model():
    """Cropping2D ((1, 0), (1, 0)) after ZeroPadding2D, SeparableConv2D, average and max pooling, Concatenate,
    HeNormal kernels (any initializer: the formula sets every weight)."""
    keras.utils.clear_session()
    return keras.applications.NASNetMobile(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def resnet50_model():
    """ResNet50 v1: post-activation bottleneck blocks, BatchNormalization axis 3, 1 x 1 projection shortcuts."""
    keras.utils.clear_session()
    return keras.applications.ResNet50(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def efficientnetb0_model():
    """Rescaling(1 / 255) then Normalization with Keras's adapt weights (mean, variance, count: set by the formula),
    VarianceScaling kernels, swish, squeeze-and-excitation (Reshape, Multiply), Dropout with noise_shape
    [None, 1, 1, 1] (stochastic depth, nothing in inference), 5 x 5 depthwise convolutions."""
    keras.utils.clear_session()
    return keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def efficientnetv2b0_model():
    """Rescaling(1 / 255) then Normalization with the ImageNet mean and variance in its config, fused MBConv blocks."""
    keras.utils.clear_session()
    return keras.applications.EfficientNetV2B0(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def convnexttiny_model():
    """Normalization with ImageNet's statistics of pixels 0-255 in its config reading the input, nested Sequential
    stem and downsampling layers, 7 x 7 Conv2D with groups = channels, LayerNormalization, Dense on [H, W, C], gelu,
    LayerScale (keras.applications.convnext's own layer; its weight is "variable")."""
    keras.utils.clear_session()
    return keras.applications.ConvNeXtTiny(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def inceptionresnetv2_model():
    """InceptionResNetV2 at its smallest input, 75 x 75 x 3: CustomScaleLayer (keras.applications.inception_resnet_v2's
    own layer, x + r * scale with scale 0.17, 0.1 and 0.2; the last block without activation), BatchNormalization
    with scale=False, Concatenate, valid 3 x 3 stride-2 convolutions and pooling."""
    keras.utils.clear_session()
    return keras.applications.InceptionResNetV2(input_shape=(75, 75, 3), weights=None, classes=10, classifier_activation=None)


def mobilenet_model():
    """MobileNet v1 (alpha 0.25): ZeroPadding2D ((0, 1), (0, 1)) before stride-2 depthwise convolutions without bias,
    ReLU6, and its classifier: GlobalAveragePooling2D(keepdims=True), Dropout, a 1 x 1 Conv2D and Reshape to [10]."""
    keras.utils.clear_session()
    return keras.applications.MobileNet(alpha=0.25, input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def densenet121_model():
    """DenseNet121: dense blocks (each layer's output Concatenated to all before it), transitions with 2 x 2
    AveragePooling2D, ZeroPadding2D before the 7 x 7 stride-2 stem and its max pooling, BatchNormalization axis 3."""
    keras.utils.clear_session()
    return keras.applications.DenseNet121(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None)


def xception_model():
    """Xception at its smallest input, 71 x 71 x 3: SeparableConv2D without bias, 3 x 3 stride-2 MaxPooling2D with
    padding "same" beside 1 x 1 stride-2 Conv2D shortcuts, Add."""
    keras.utils.clear_session()
    return keras.applications.Xception(input_shape=(71, 71, 3), weights=None, classes=10, classifier_activation=None)


def inceptionv3_model():
    """InceptionV3 at its smallest input, 75 x 75 x 3: 1 x 7 and 7 x 1 convolutions, 3 x 3 AveragePooling2D with
    stride 1 and padding "same" (the padding left out of each mean), BatchNormalization with scale=False, Concatenate."""
    keras.utils.clear_session()
    return keras.applications.InceptionV3(input_shape=(75, 75, 3), weights=None, classes=10, classifier_activation=None)


def sequential_new_layers_model():
    """A Sequential of the layers the applications above brought (LayerOptionFuzzTests fuzzes its options), fed pixels:
    Rescaling(1 / 255), Normalization with adapt weights, VarianceScaling and LecunUniform kernels, a Constant bias,
    LayerNormalization, Dense on [H, W, C] with gelu, LayerScale, Dropout with noise_shape, Conv2D with one group
    per channel."""
    keras.utils.clear_session()
    from keras.src.applications.convnext import LayerScale
    scaling = keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal")
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Rescaling(1 / 255, name="rescaling"),
        layers.Normalization(axis=-1, name="normalization"),
        layers.Conv2D(16, 3, strides=2, padding="same", kernel_initializer=scaling, name="stem"),
        layers.LayerNormalization(epsilon=1e-6, name="layer_norm"),
        layers.Dense(32, activation="gelu", name="pointwise"),
        LayerScale(1e-6, 32, name="layer_scale"),
        layers.Dropout(0.1, noise_shape=(None, 1, 1, 1), name="stochastic_depth"),
        layers.Conv2D(32, 7, padding="same", groups=32, name="depthwise_as_conv"),
        layers.GlobalAveragePooling2D(name="pool"),
        layers.Dense(10, kernel_initializer="lecun_uniform", bias_initializer=keras.initializers.Constant(0.1), name="logits"),
    ], name="sequential_new_layers")


def pixel_images():
    """The colour images as integer pixel values 0-255, which the EfficientNets rescale themselves."""
    return np.round((colour_images().astype(np.float64) + 1) * 127.5).astype(np.float32)


def grouped_model():
    """Conv2D with groups (Keras's grouped convolution, kernel [KH, KW, C / groups, filters]): a stem, a 3x3
    convolution of 2 groups and a stride-2 valid one of 4 groups with bias, GAP, Dense(10)."""
    keras.utils.clear_session()
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="stem")(inputs)
    x = layers.Conv2D(8, 3, padding="same", groups=2, activation="relu", name="grouped_2")(x)
    x = layers.Conv2D(12, 3, strides=2, padding="valid", groups=4, name="grouped_4")(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10, name="logits")(x), name="grouped")


def more_layers_model():
    """The layers and activations Keras users reach for beyond the applications': ELU (as a layer and selu, elu, celu
    activations), PReLU with one slope per channel, the activations mish, softplus, softsign, leaky_relu, exponential,
    log_sigmoid, tanh_shrink, squareplus, hard_tanh, soft_shrink, hard_shrink, sparse_plus and sparse_sigmoid (each on
    a branch of its own), the merges Maximum, Minimum, Subtract and Average, SpatialDropout2D, GaussianNoise,
    GaussianDropout, RMSNormalization, UnitNormalization, GroupNormalization, Identity, and ShuffleNet's channel
    shuffle (Reshape to 4-D, Permute)."""
    keras.utils.clear_session()
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="selu", name="stem")(inputs)   # 14 x 14 x 8
    a = layers.Conv2D(8, 3, padding="same", activation="elu", name="branch_elu")(x)
    b = layers.Conv2D(8, 3, padding="same", activation="mish", name="branch_mish")(x)
    c = layers.Conv2D(8, 1, activation="softplus", name="branch_softplus")(x)
    d = layers.Conv2D(8, 1, activation="softsign", name="branch_softsign")(x)
    highest = layers.Maximum(name="maximum")([a, b, c])
    lowest = layers.Minimum(name="minimum")([a, b, d])
    spread = layers.Subtract(name="subtract")([highest, lowest])
    y = layers.Average(name="average")([spread, x, d])
    y = layers.PReLU(shared_axes=[1, 2], name="prelu")(y)
    y = layers.SpatialDropout2D(0.2, name="spatial_dropout")(y)
    y = layers.GaussianNoise(0.1, name="gaussian_noise")(y)
    y = layers.Conv2D(16, 3, strides=2, padding="same", activation="celu", name="conv2")(y)   # 7 x 7 x 16
    y = layers.Reshape((7, 7, 4, 4), name="to_groups")(y)   # ShuffleNet's channel shuffle, 4 groups
    y = layers.Permute((1, 2, 4, 3), name="shuffle")(y)
    y = layers.Reshape((7, 7, 16), name="from_groups")(y)
    y = layers.ELU(alpha=0.5, name="elu")(y)
    y = layers.RMSNormalization(name="rms_normalization")(y)
    branches = [layers.Activation(f, name=f)(layers.Conv2D(4, 1, name=f"{f}_conv")(y))
                for f in ["leaky_relu", "exponential", "log_sigmoid", "tanh_shrink", "squareplus", "hard_tanh",
                          "soft_shrink", "hard_shrink", "sparse_plus", "sparse_sigmoid"]]
    y = layers.Concatenate(name="concatenate")(branches)   # 7 x 7 x 40
    y = layers.UnitNormalization(name="unit_normalization")(y)
    y = layers.Conv2D(16, 3, padding="same", name="conv3")(y)
    y = layers.GroupNormalization(groups=4, name="group_normalization")(y)
    y = layers.Identity(name="identity")(y)
    y = layers.Flatten(name="flatten")(y)   # (an average over positions would wash the images' differences out)
    y = layers.GaussianDropout(0.1, name="gaussian_dropout")(y)
    return keras.Model(inputs, layers.Dense(10, name="logits")(y), name="more_layers")


MODELS = [
    ("residual", residual_model, digit_like_images),
    ("mobilenet-like", mobilenet_like_model, lambda: digit_like_images() * 2 - 1),
    ("mobilenetv2", mobilenetv2_model, colour_images),
    ("resnet50v2", resnet50v2_model, colour_images),
    ("mobilenetv3small", mobilenetv3small_model, lambda: colour_images() * 10),
    ("nasnetmobile", nasnetmobile_model, colour_images),
    ("resnet50", resnet50_model, colour_images),
    ("grouped", grouped_model, lambda: digit_like_images() * 2 - 1),
    ("efficientnetb0", efficientnetb0_model, pixel_images),
    ("efficientnetv2b0", efficientnetv2b0_model, pixel_images),
    ("convnexttiny", convnexttiny_model, pixel_images),
    ("inceptionresnetv2", inceptionresnetv2_model, lambda: colour_images(75)),
    ("sequential-new-layers", sequential_new_layers_model, lambda: np.round(digit_like_images() * 255)),
    ("mobilenet", mobilenet_model, colour_images),
    ("densenet121", densenet121_model, colour_images),
    ("xception", xception_model, lambda: colour_images(71)),
    ("inceptionv3", inceptionv3_model, lambda: colour_images(75)),
    ("more-layers", more_layers_model, digit_like_images),
]
# Their first layer reads pixels 0-255 (a Rescaling, or ConvNeXt's Normalization).
PIXEL_INPUTS = {"efficientnetb0", "efficientnetv2b0", "convnexttiny", "sequential-new-layers"}


# ---------------------------------------------------------------- running and checking

def logits_of(model, x):
    set_formula_weights(model)
    return np.asarray(model(x, training=False), dtype=np.float32)


def rms(a):
    return float(np.sqrt(np.mean(np.square(np.asarray(a, dtype=np.float64)))))


# MobileNetV3Small's and the EfficientNets' squeeze-and-excitation gates and (hard) swishes shrink what the formula weights give: its
# logits are smaller, but still 500 times the tests' tolerance (1e-4).
SMALLEST_LOGITS = {"mobilenetv3small": 0.05, "efficientnetb0": 0.05, "efficientnetv2b0": 0.05}


def check_logits(name, logits):
    assert np.all(np.isfinite(logits)), f"{name}: logits not finite"
    size, largest = rms(logits), float(np.max(np.abs(logits)))
    smallest = SMALLEST_LOGITS.get(name, 0.1)
    assert smallest <= size and largest <= 10.0, f"{name}: logits of rms {size:.4g}, largest {largest:.4g}; want {smallest} .. 10"
    # between images: every pair differs by more than 5% of the logits' size
    for a in range(len(logits)):
        for b in range(a + 1, len(logits)):
            gap = float(np.max(np.abs(logits[a] - logits[b])))
            assert gap > 0.05 * size, f"{name}: images {a} and {b} have logits within {gap:.3g}"
    # between classes: within each image the logits spread by more than 5% of the size
    spread = np.std(logits.astype(np.float64), axis=1)
    assert np.all(spread > 0.05 * size), f"{name}: logits of some image hardly differ between classes ({spread})"
    return size, largest


def check_activations(name, model, x):
    """Every layer's output within 1e-2 .. 1e2 in root mean square; returns (smallest, largest)."""
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers[1:]])
    outputs = probe(x, training=False)
    sizes = {layer.name: rms(out) for layer, out in zip(model.layers[1:], outputs)}
    low, high = min(sizes, key=sizes.get), max(sizes, key=sizes.get)
    assert sizes[low] >= 1e-2 and sizes[high] <= 1e2, f"{name}: activations from {low} {sizes[low]:.3g} to {high} {sizes[high]:.3g}"
    clipped = None
    relu6 = [(layer, out) for layer, out in zip(model.layers[1:], outputs)
             if type(layer).__name__ == "ReLU" and layer.max_value is not None]
    if relu6:  # the share of ReLU6 outputs at the cap: the clip is really exercised
        clipped = sum(float(np.sum(np.asarray(out) >= layer.max_value)) for layer, out in relu6) / sum(int(np.size(out)) for _, out in relu6)
    return (low, sizes[low]), (high, sizes[high]), clipped


def differs(what, base, variant, results):
    gap = float(np.max(np.abs(base - variant)))
    results.append((what, gap))
    assert gap > SENSITIVITY, f"{what}: changes the logits by only {gap:.3g} (want > {SENSITIVITY})"


def sensitivity(name, x, base):
    results = []
    if name == "mobilenet-like":
        differs("mobilenet-like: ReLU6 -> ReLU", base, logits_of(mobilenet_like_model(relu6=False), x), results)
        asym = ((0, 1), (0, 1))
        for k, where in enumerate(["stem_pad", "block2_pad"]):
            variants = {}
            for label, other in [("symmetric ((1,1),(1,1))", ((1, 1), (1, 1))), ("mirrored ((1,0),(1,0))", ((1, 0), (1, 0)))]:
                pads = [asym, asym]
                pads[k] = other
                variants[label] = logits_of(mobilenet_like_model(pads=tuple(pads)), x)
                differs(f"mobilenet-like: {where} {label}", base, variants[label], results)
            # a 3x3 stride-2 valid window on an even size + 2 never reads the last row or column, so the
            # symmetric padding is the mirrored one: a loader that swaps (before, after) fails alike
            same = float(np.max(np.abs(variants["symmetric ((1,1),(1,1))"] - variants["mirrored ((1,0),(1,0))"])))
            assert same < 1e-5, f"{where}: symmetric and mirrored padding differ by {same}"
        same = float(np.max(np.abs(base - logits_of(mobilenet_like_model(dropout=False), x))))
        assert same < 1e-6, f"mobilenet-like: the Dropout changes inference logits by {same}"
        results.append(("mobilenet-like: Dropout removed (must not change)", same))
    if name == "efficientnetb0":
        model = efficientnetb0_model()
        set_formula_weights(model)
        norm = model.get_layer("normalization")
        norm.adapt_mean.assign(np.zeros(3, np.float32))
        norm.adapt_variance.assign(np.ones(3, np.float32))
        finalize(norm)
        differs("efficientnetb0: Normalization's adapt weights at mean 0, variance 1", base,
                np.asarray(model(x, training=False), dtype=np.float32), results)
    if name == "residual":
        differs("residual: block1_add's identity shortcut removed", base, logits_of(residual_model(shortcut=(False, True)), x), results)
        differs("residual: block2_add's projection shortcut removed", base, logits_of(residual_model(shortcut=(True, False)), x), results)
    return results


@contextlib.contextmanager
def precision(dtype):
    """Keras layers made inside compute in dtype ("float32" or "float64")."""
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")


def formula_model(make):
    """make()'s model with the formula's weights (float32 values, held in the precision it is made in)."""
    model = make()
    set_formula_weights(model)
    return model


def float64_gap(make, x, logits):
    """The largest |float32 logits - float64 logits| of the same model and weights in Keras: the
    rounding noise a float32 reimplementation can expect (a test's tolerance should be well above it)."""
    with precision("float64"):
        exact = np.asarray(formula_model(make)(x.astype(np.float64), training=False))
    return float(np.max(np.abs(logits.astype(np.float64) - exact)))


# ---------------------------------------------------------------- one training step

STEP_LABELS = [3, 1, 4, 1]
# The batch orders Keras's float32 step runs in: the same step mathematically, summed in other orders. How far the
# farthest lies from the float64 step is the float32 noise a test allows for (in the deep models whose last
# BatchNormalizations see 1 x 1 maps of 4 samples, one order can land 20 times closer than another).
STEP_ORDERS = [[0, 1, 2, 3], [1, 2, 3, 0], [2, 0, 3, 1], [3, 2, 1, 0]]


def training_step(make, x, dtype, order=(0, 1, 2, 3)):
    """One training-mode step of Keras in dtype on x[order] with STEP_LABELS[order], every Dropout's rate set to 0
    (its masks are random draws no other implementation repeats): the mean SparseCategoricalCrossentropy(from_logits=
    True), {"<layer>.<weight>": its gradient} for every trainable weight, and {"<layer>.<weight>": its value after the
    step} for every non-trainable float weight the step changed (BatchNormalization's moving statistics)."""
    import tensorflow as tf
    with precision(dtype):
        model = formula_model(make)
        for layer in leaf_layers(model):
            if isinstance(layer, (layers.Dropout, layers.GaussianDropout)):   # SpatialDropout2D is a Dropout
                layer.rate = 0.0
            if isinstance(layer, layers.GaussianNoise):
                layer.stddev = 0.0
        named = lambda weights_of: [(f"{layer.name}.{weight_name(v)}", v)  # noqa: E731
                                    for layer in leaf_layers(model) for v in weights_of(layer)]
        trainable, frozen = named(lambda l: l.trainable_weights), named(lambda l: l.non_trainable_weights)
        before = {n: np.array(v.numpy()) for n, v in frozen}
        with tf.GradientTape() as tape:
            logits = model(x[list(order)].astype(dtype), training=True)
            labels = np.array([STEP_LABELS[i] for i in order])
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
        gradients = tape.gradient(loss, [v for _, v in trainable])
        after = {n: np.asarray(v.numpy(), np.float64) for n, v in frozen
                 if "float" in v.dtype and np.any(v.numpy() != before[n])}
        return float(loss), {n: np.asarray(g, np.float64) for (n, _), g in zip(trainable, gradients)}, after


def probe(name, n):
    """The unit vector a weight's gradient is projected on: the formula's [-1, 1) values of "<name>/probe", the
    name "<layer>.<weight>", divided by their norm."""
    u = uniform(f"{name}/probe", n)
    return u / math.sqrt(math.fsum((u * u).tolist()))


def distance(a, b):
    return math.sqrt(math.fsum(((a.reshape(-1) - b.reshape(-1)) ** 2).tolist()))


def digest(name, exact, singles):
    """A weight's gradient (or value) in kilobytes: the float64 step's norm and projection on probe(name), and the
    largest distance (norm of the difference) of Keras's float32 steps from it: the noise a float32 step has."""
    flat = exact.reshape(-1)
    return {"name": name, "norm": math.sqrt(math.fsum((flat * flat).tolist())),
            "probe": math.fsum((flat * probe(name, flat.size)).tolist()),
            "float32_error": max(distance(single, exact) for single in singles)}


def write_step(path, name, make, x):
    """<name>-step.json: one training step's loss, gradients and moving statistics in float64 (the reference), as
    digests, with the float32 noise of Keras's step in STEP_ORDERS. Returns the loss, the gradient's norm and the
    float32 steps' largest distance from it."""
    loss64, gradients64, after64 = training_step(make, x, "float64")
    singles = [training_step(make, x, "float32", order) for order in STEP_ORDERS]
    for _, gradients32, after32 in singles:
        assert gradients32.keys() == gradients64.keys() and after32.keys() == after64.keys(), name
    step = {"model": name, "keras": keras.__version__, "tensorflow": tf_version(),
            "labels": STEP_LABELS, "dropout": "every Dropout's rate set to 0", "float32_orders": STEP_ORDERS,
            "loss": loss64, "loss_float32_error": max(abs(loss32 - loss64) for loss32, _, _ in singles),
            "gradients": [digest(n, g, [s[1][n] for s in singles]) for n, g in gradients64.items()],
            "state": [digest(n, v, [s[2][n] for s in singles]) for n, v in after64.items()]}
    total = math.sqrt(math.fsum(g["norm"] ** 2 for g in step["gradients"]))
    noise = max(math.sqrt(math.fsum(distance(s[1][n], g) ** 2 for n, g in gradients64.items())) for s in singles)
    assert math.isfinite(total) and total > 0, f"{name}: no gradient"
    text = "{\n" + ",\n".join(f"{json.dumps(k)}: " + ("[\n" + ",\n".join(json.dumps(e) for e in v) + "\n]" if k in ("gradients", "state")
                                                   else json.dumps(v)) for k, v in step.items()) + "\n}\n"
    assert json.loads(text) == step
    with open(path, "w") as f:
        f.write(text)
    return loss64, total, noise


# ---------------------------------------------------------------- writing

def number(value):
    value = np.float32(value)
    assert np.isfinite(value)
    return str(value)   # numpy's shortest float32 repr: parses back to the same float32


def nested(array):
    if array.ndim == 1:
        return "[" + ",".join(number(v) for v in array) + "]"
    if array.ndim == 2:
        return "[" + ",".join(nested(row) for row in array) + "]"
    return "[\n" + ",\n".join(nested(part) for part in array) + "]"


def write_io(path, name, x, logits, manifest):
    weights = ",\n".join(
        f'  {{"name": {json.dumps(n)}, "shape": {json.dumps(s)}, '
        f'"first": [{", ".join(number(v) for v in values.reshape(-1)[:3])}], '
        f'"sum": {math.fsum(values.reshape(-1).astype(np.float64).tolist())!r}}}'
        for n, s, values in manifest)
    text = ("{\n"
            f'"model": {json.dumps(name)},\n'
            f'"keras": {json.dumps(keras.__version__)},\n'
            f'"tensorflow": {json.dumps(tf_version())},\n'
            f'"weight_formula": "see README.md: FNV-1a-32 of <layer>/<weight>, fmix32 per element, GAIN {GAIN}",\n'
            f'"gain": {GAIN!r},\n'
            f'"weights": [\n{weights}\n],\n'
            f'"input_shape": {json.dumps(list(x.shape))},\n'
            + ('"pixels": true,\n' if name in PIXEL_INPUTS else "")
            + f'"inputs": {nested(x)},\n'
            f'"logits": {nested(logits)}\n'
            "}\n")
    json.loads(text)   # valid JSON
    with open(path, "w") as f:
        f.write(text)


def tf_version():
    try:
        import tensorflow as tf
        return tf.__version__
    except ImportError:
        return None


# ---------------------------------------------------------------- layer-configs.md

EXAMPLES = [  # (class, model, layer name): one full config.layers[] entry each
    ("InputLayer", "mobilenetv2", "input_layer"),
    ("Conv2D", "mobilenetv2", "Conv1"),
    ("DepthwiseConv2D", "mobilenetv2", "block_1_depthwise"),
    ("SeparableConv2D", "mobilenet-like", "separable"),
    ("BatchNormalization", "resnet50v2", "conv2_block1_preact_bn"),
    ("ReLU", "mobilenetv2", "Conv1_relu"),
    ("Activation", "resnet50v2", "conv2_block1_preact_relu"),
    ("ZeroPadding2D", "mobilenetv2", "block_1_pad"),
    ("Add", "resnet50v2", "conv2_block1_out"),
    ("MaxPooling2D", "resnet50v2", "max_pooling2d"),
    ("GlobalAveragePooling2D", "resnet50v2", "avg_pool"),
    ("Dropout", "mobilenet-like", "dropout"),
    ("Dense", "resnet50v2", "predictions"),
]

LAYER_CONFIGS_INTRO = """# Keras 3 functional model JSON, layer by layer

Written by `scripts/make-graph-fixtures.py` (Keras {keras}, TensorFlow {tf}) from the four fixtures
beside this file and from a few small probe models built in the script: what `model.to_json()` writes
for a functional model, as a loader must read it (or refuse it). Every example is verbatim Keras
output, pretty-printed.

## The document and its top-level `config`

```json
{top}
```

- `class_name` is `"Functional"` (not `"Model"`), with `module` `"keras.src.models.functional"` and
  `registered_name` `"Functional"`; a Sequential is `"Sequential"`.
- `config` has exactly `name`, `trainable`, `layers`, `input_layers`, `output_layers`.
- A reference to a tensor is a triple `[layer name, node index, tensor index]`.
- **`input_layers` / `output_layers` take the form of the Python call that built the model**, not the
  number of inputs (checked on probe models):

{io_forms}

  All four fixtures use the flat triple (`keras.Model(x, y)` and the applications). A loader tells a
  triple (first element a string) from a list of triples (first element a list), and a dict.
- Model names can hold dots: `{mobilenet_name}`.

## A `config.layers[]` entry

- Keys, in order: `module`, `class_name`, `config`, `registered_name`, `build_config` (only some
  classes: {with_build}; not {without_build}), `name` (the same as `config.name`), `inbound_nodes`.
- In all four fixtures every `keras_history` names an entry earlier in `config.layers` (Keras writes
  the layers in its topological order), and every node and tensor index is 0 (no layer is called twice).
- `inbound_nodes` has one node per call of the layer inside this model (`[]` for an InputLayer). A node
  is `{{"args": [...], "kwargs": {{...}}}}`. A one-input layer's `args` is `[tensor]`; a merge layer's
  (`Add`) is `[[tensor, tensor, ...]]`: ONE positional argument that is the list of its inputs, in the
  order of the Python list (ResNet50V2's `conv2_block1_out` adds `[conv2_block1_0_conv,
  conv2_block1_3_conv]`, the shortcut first). A tensor is
  `{{"class_name": "__keras_tensor__", "config": {{"shape": [null, ...], "dtype": "float32",
  "keras_history": [layer, node, tensor]}}}}`.
- `kwargs` seen in the fixtures, by class:

{kwargs}

  Keras writes `{{"training": false}}` into every Dropout node though the script never passes
  `training`, and `{{"mask": null}}` into every BatchNormalization node. A layer called with
  `training=True` in the graph writes `{{"training": true}}`: Keras {keras} then applies it when the
  model is called as `model(x)`, but `model(x, training=False)` and `predict` override it (checked on a
  probe Dropout and BatchNormalization). An inference loader can accept `training: false` and
  `mask: null` and refuse `training: true` (it means Monte-Carlo dropout or batch statistics).
- In every layer's `config` (not InputLayer's) `dtype` is a DTypePolicy object
  `{{"module": "keras", "class_name": "DTypePolicy", "config": {{"name": "float32"}}, "registered_name": null}}`;
  InputLayer's is the string `"float32"`.

## Option values that occur in the four fixtures

Every option of every layer class, with each value it takes anywhere in the four models (options
that take many values, such as `filters`, are counted). A loader reads these or refuses other values.

{options}

Things a loader must get right (each is in a fixture):

- **BatchNormalization `axis`**: `3` in all 49 of ResNet50V2's, `-1` everywhere else; on NHWC rank-4
  inputs both are the channel axis. `epsilon` is `1.001e-05` in ResNet50V2, `0.001` elsewhere
  (`momentum` 0.99 / 0.999 does not matter in inference). `center` and `scale` are true everywhere
  (false would drop `beta` / `gamma` from the weights).
- **MaxPooling2D `pool_size [1, 1]`, `strides [2, 2]`**: ResNet50V2's stride-2 shortcuts
  (`max_pooling2d`, `max_pooling2d_1`, `max_pooling2d_2`: auto-generated names, which depend on the
  Keras session; the script clears it before each model) subsample with a 1x1 window. Its
  `pool1_pool` is `[3, 3]` stride 2 `valid` after `pool1_pad` ZeroPadding2D `[[1, 1], [1, 1]]`, which
  follows `conv1_conv` directly (ResNet V2 has no BN/ReLU before the pool): the padded zeros
  compete in the max with negative values, so padding must be zeros, not -infinity.
- **ZeroPadding2D `padding`** is always written as `[[top, bottom], [left, right]]` (Keras normalizes
  `1` and `(1, 2)` to that form: `{pad_forms}`). MobileNetV2 uses the asymmetric `[[0, 1], [0, 1]]`
  before its stride-2 `valid` depthwise convs; ResNet50V2 `[[3, 3], [3, 3]]` and `[[1, 1], [1, 1]]`.
- **Conv2D `padding "same"` with stride 2** (MobileNetV2's `Conv1`, 3x3 on 32x32; `residual`'s
  `block2_conv1` on 14x14): Keras/TF pad `max(k - s, 0)` in total when `n mod s` is 0 (else
  `max(k - (n mod s), 0)`), `total // 2` before and the rest after: here 0 before and 1 after, on
  each axis. (`mobilenet-like` writes the same thing as ZeroPadding2D `[[0, 1], [0, 1]]` + `valid`.)
- **ReLU**: `max_value` is `6.0` (MobileNetV2, `mobilenet-like`) or `null`; `ReLU(6)` writes the
  integer `6`; `negative_slope` and `threshold` are `0.0` here. `Activation`'s `activation` is `"relu"`;
  Conv2D/DepthwiseConv2D/Dense write `"linear"` (Dense `predictions` too, for `classifier_activation=None`).
- **DepthwiseConv2D** writes `depthwise_initializer` / `_regularizer` / `_constraint` (not `kernel_*`)
  and `depth_multiplier`, yet its weight is named `kernel` `[kh, kw, C, depth_multiplier]`.
  SeparableConv2D's weights are `depthwise_kernel`, `pointwise_kernel` `[1, 1, C*depth_multiplier, filters]`, `bias`.
- **Dense** has `quantization_config` (`null`), new in recent Keras 3 releases.
- InputLayer: `batch_shape` `[null, H, W, C]`, `sparse`, `ragged`, `optional` false; no
  `batch_input_shape`. The applications' input is auto-named `input_layer` (`input_layer_1`, ... in a
  session that already made one).

## One example of each layer class
"""

LAYER_CONFIGS_NESTED = """
## A Sequential inside a functional model

Probe: `inner_seq = keras.Sequential([Conv2D(2, 1, name="sc"), ReLU(name="sr")], name="inner_seq")`
called on a tensor of a functional model. Its entry has `class_name` `"Sequential"`, `module`
`"keras"`, a `config.layers` list of its own (with an InputLayer of its own, auto-named, and no
`inbound_nodes` on the inner layers), `build_input_shape`, and one node whose kwargs are
`{{"mask": null}}`. Its weights' Keras paths carry the Sequential's name: {seq_paths}. A nested
functional model (class_name `"Functional"`) writes `config.layers`, `input_layers`, `output_layers`
like the top level, but its weights' paths do not carry its name: {func_paths}.

```json
{sequential}
```

## A layer used twice

Probe: `shared = Conv2D(4, 1, name="shared"); a = shared(x); b = shared(a); Add()([a, b])`. The
entry has two inbound nodes, one per call; the first call's output is `["shared", 0, 0]`, the
second's `["shared", 1, 0]` (the node index counts calls), as the `Add` shows. The weights exist once.

```json
{shared}
```

```json
{shared_add}
```
"""


def probe_models():
    keras.utils.clear_session()
    x_in = keras.Input(shape=(8, 8, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="conv")(x_in)
    shared = layers.Conv2D(4, 1, name="shared")
    a = shared(x)
    b = shared(a)
    y = layers.Add(name="add")([a, b])
    inner = keras.Sequential([layers.Conv2D(2, 1, name="sc"), layers.ReLU(name="sr")], name="inner_seq")
    y = inner(y)
    y = layers.GlobalAveragePooling2D(name="pool")(y)
    y = layers.Dense(2, name="logits")(y)
    probe = keras.Model(x_in, y, name="probe")
    seq_paths = [v.path for v in inner.weights]

    i = keras.Input((4,), name="i")
    inner_f = keras.Model(i, layers.Dense(3, name="inner_dense")(i), name="inner_functional")
    o = keras.Input((4,), name="o")
    outer = keras.Model(o, layers.Dense(2, name="outer_dense")(inner_f(o)), name="outer")
    func_paths = [v.path for v in outer.get_layer("inner_functional").weights]
    inner_entry = [e for e in json.loads(probe.to_json())["config"]["layers"] if e["name"] == "inner_seq"][0]
    assert all("inbound_nodes" not in e for e in inner_entry["config"]["layers"])

    # a node's recorded training=True: applied by model(x), overridden by model(x, training=False)
    z = keras.Input((64,), name="z")
    dropout = keras.Model(z, layers.Dropout(0.5, name="dr")(z, training=True))
    node = json.loads(dropout.to_json())["config"]["layers"][1]["inbound_nodes"][0]
    assert node["kwargs"] == {"training": True}, node["kwargs"]
    ones = np.ones((1, 64), np.float32)
    assert np.any(np.asarray(dropout(ones)) != 1.0)
    assert np.all(np.asarray(dropout(ones, training=False)) == 1.0)
    assert np.all(dropout.predict(ones, verbose=0) == 1.0)
    z = keras.Input((3,), name="z")
    norm = keras.Model(z, layers.BatchNormalization(name="bn")(z, training=True))
    fives = np.full((2, 3), 5.0, np.float32)
    assert np.allclose(np.asarray(norm(fives, training=False)), 5.0 / math.sqrt(1.001))   # moving statistics
    assert np.allclose(np.asarray(norm(fives)), 0.0, atol=1e-3)                           # batch statistics

    forms = []
    p, q = keras.Input((4,), name="p"), keras.Input((4,), name="q")
    s = layers.Add(name="s")([p, q])
    t = layers.Dense(2, name="t")(s)
    u = layers.Dense(2, name="u")(p)
    for call, model in [("keras.Model(p, u)", keras.Model(p, u)),
                        ("keras.Model([p], [u])", keras.Model([p], [u])),
                        ("keras.Model([p, q], [s, t])", keras.Model([p, q], [s, t])),
                        ("keras.Model({'p': p, 'q': q}, s)", keras.Model({"p": p, "q": q}, s)),
                        ("keras.Model(p, {'out': u})", keras.Model(p, {"out": u}))]:
        c = json.loads(model.to_json())["config"]
        forms.append(f"  - `{call}`: `input_layers` `{json.dumps(c['input_layers'])}`, "
                     f"`output_layers` `{json.dumps(c['output_layers'])}`")
    return json.loads(probe.to_json()), seq_paths, func_paths, forms


def write_layer_configs(directory):
    # The fixtures added later (MobileNetV3Small, NASNetMobile, ResNet50, the EfficientNets, ...) are left out: the first's
    # operations with a number (two positional arguments) are described in README.md, and the counts below stay
    # those of the first five fixtures.
    docs = {n: json.load(open(os.path.join(directory, f"{n}.json"))) for n, _, _ in MODELS if n not in ("mobilenetv3small", "nasnetmobile", "resnet50", "efficientnetb0",
                                                                                       "efficientnetv2b0", "convnexttiny",
                                                                                       "sequential-new-layers", "inceptionresnetv2",
                                                                                       "mobilenet", "densenet121", "xception", "inceptionv3",
                                                                                       "more-layers")}
    entries = {(n, e["name"]): e for n, d in docs.items() for e in d["config"]["layers"]}
    pretty = lambda value: json.dumps(value, indent=2)  # noqa: E731
    top = dict(docs["residual"])
    top["config"] = {k: (["... 23 layer entries ..."] if k == "layers" else v) for k, v in top["config"].items()}

    kwargs, options, with_build, without_build = {}, {}, set(), set()
    for d in docs.values():
        earlier = set()
        for e in d["config"]["layers"]:
            for node in e["inbound_nodes"]:
                arguments = node["args"][0] if isinstance(node["args"][0], list) else node["args"]
                assert len(node["args"]) == 1 and all(t["class_name"] == "__keras_tensor__" for t in arguments)
                assert all(t["config"]["keras_history"][0] in earlier and t["config"]["keras_history"][1:] == [0, 0]
                           for t in arguments), e["name"]
            earlier.add(e["name"])
            c = e["class_name"]
            (with_build if "build_config" in e else without_build).add(c)
            for node in e["inbound_nodes"]:
                kwargs.setdefault(c, set()).add(json.dumps(node["kwargs"]))
            for k, v in e["config"].items():
                if k not in ("name", "dtype"):
                    options.setdefault(c, {}).setdefault(k, set()).add(json.dumps(v))
    kwargs_text = "\n".join(f"  - {c}: " + ", ".join(f"`{k}`" for k in sorted(v)) for c, v in kwargs.items())
    option_lines = ["| class | option | values |", "| --- | --- | --- |"]
    for c, opts in options.items():
        for k, vs in opts.items():
            shown = ", ".join(f"`{v}`" for v in sorted(vs)) if len(vs) <= 6 and all(len(v) < 60 for v in vs) \
                else (f"{len(vs)} values" if all(len(v) < 60 for v in vs) else
                      " / ".join(f"`{json.loads(v)['class_name']}`" if v.startswith("{") else f"`{v}`" for v in sorted(vs)))
            option_lines.append(f"| {c} | {k} | {shown} |")
    pad_forms = ", ".join(f"ZeroPadding2D({arg}) -> {json.dumps(layers.ZeroPadding2D(value).get_config()['padding'])}"
                          for arg, value in [("1", 1), ("(1, 2)", (1, 2))])

    probe, seq_paths, func_paths, forms = probe_models()
    probe_entries = {e["name"]: e for e in probe["config"]["layers"]}
    text = LAYER_CONFIGS_INTRO.format(
        keras=keras.__version__, tf=tf_version(), top=pretty(top), io_forms="\n".join(forms),
        mobilenet_name=docs["mobilenetv2"]["config"]["name"],
        with_build=", ".join(sorted(with_build)), without_build=", ".join(sorted(without_build)),
        kwargs=kwargs_text, options="\n".join(option_lines), pad_forms=pad_forms)
    for c, model, layer in EXAMPLES:
        entry = entries[(model, layer)]
        assert entry["class_name"] == c
        text += f"\n### {c} (`{model}`: `{layer}`)\n\n```json\n{pretty(entry)}\n```\n"
    seen = {e["class_name"] for d in docs.values() for e in d["config"]["layers"]}
    assert seen == {c for c, _, _ in EXAMPLES}, f"classes without an example: {seen - {c for c, _, _ in EXAMPLES}}"
    text += LAYER_CONFIGS_NESTED.format(
        seq_paths=", ".join(f"`{p}`" for p in seq_paths), func_paths=", ".join(f"`{p}`" for p in func_paths),
        sequential=pretty(probe_entries["inner_seq"]), shared=pretty(probe_entries["shared"]),
        shared_add=pretty(probe_entries["add"]))
    with open(os.path.join(directory, "layer-configs.md"), "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=FIXTURES)
    parser.add_argument("--names", action="store_true", help="print every weight's Keras path and shape")
    parser.add_argument("--only", nargs="*", help="model names to write (default: all)")
    parser.add_argument("--step-only", action="store_true", help="write <name>-step.json alone")
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    print(f"keras {keras.__version__}, tensorflow {tf_version()}, backend {keras.backend.backend()}")
    global GAIN
    for name, make, images in MODELS:
        if args.only and name not in args.only:
            continue
        GAIN = GAINS.get(name, 4.2)
        x = images()
        loss, total, noise = write_step(os.path.join(args.output, f"{name}-step.json"), name, make, x)
        print(f"{name}: training step: loss {loss:.6f}, gradient norm {total:.6g}, "
              f"Keras's float32 steps up to {noise / total:.3g} of it away")
        if args.step_only:
            continue
        model = make()
        check_fan_in_rule(model)
        manifest = set_formula_weights(model)
        names = sorted({weight_name(v) for layer in leaf_layers(model) for v in layer.weights})
        assert set(names) <= set(SETTINGS), f"{name}: weight names {names}"
        if args.names:
            for layer in leaf_layers(model):
                for v in layer.weights:
                    print(f"  {type(layer).__name__:20s} {v.path:40s} {tuple(v.shape)}")
        logits = np.asarray(model(x, training=False), dtype=np.float32)
        size, largest = check_logits(name, logits)
        low, high, clipped = check_activations(name, model, x)
        with open(os.path.join(args.output, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        write_io(os.path.join(args.output, f"{name}-io.json"), name, x, logits, manifest)
        print(f"{name}: {len(model.layers)} layers, {model.count_params()} parameters, weight names {names}")
        print(f"  logits rms {size:.4f}, largest |logit| {largest:.4f}, "
              f"per image rms {[round(rms(row), 4) for row in logits]}")
        print(f"  layer outputs rms from {low[1]:.4g} ({low[0]}) to {high[1]:.4g} ({high[0]})"
              + (f"; ReLU6 outputs at 6: {100 * clipped:.2f}%" if clipped is not None else ""))
        print(f"  float32 vs float64 Keras logits: largest difference {float64_gap(make, x, logits):.3g}")
        for what, gap in sensitivity(name, x, logits):
            print(f"  sensitivity: {what}: largest logit change {gap:.4g}")
    if not args.step_only and all(os.path.exists(os.path.join(args.output, f"{name}.json")) for name, _, _ in MODELS):
        write_layer_configs(args.output)
        print(f"wrote {os.path.join(args.output, 'layer-configs.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
