#!/usr/bin/env python3
"""Models between Keras and swift-distill, both ways.

  import   Keras model (.keras file) -> swift-distill checkpoint (.safetensors): the weights as
           tensors named <layer name>.<weight name> (dense_4.kernel), the model's to_json() and its
           role in the metadata. `distill-student --teacher` and `evaluate --model` take it as is.
  export   swift-distill checkpoint -> Keras model (.keras file): the model rebuilt from the JSON in
           the metadata, its weights set by layer name.
  logits   a Keras model's logits (before a final softmax) for every training image of an IDX data
           directory, as `distill-student --teacher-logits` reads them: one tensor `logits` [N, K].
  fixtures writes Tests/Fixtures/keras-roundtrip/: two small Keras models as checkpoints, inputs and
           Keras's outputs for them (the test suite checks swift-distill's against them, no Keras needed),
           and the JSON of a teacher and a student that use every layer type between them.
  ensemble several teachers (.keras files or checkpoints) as one: their mean logits for the training
           images, written as `--teacher-logits` reads them, and each member's and the ensemble's test accuracy.
  selftest fixtures, then export them back and check Keras gives the same outputs.
  mnist    the whole path on MNIST: Keras trains the example's teacher for an epoch, it is imported
           and evaluated by `distill evaluate`, `distill distill-student` distils a student from it,
           and the student, exported back, is evaluated by Keras. Both sides' accuracies are printed.
  graph    the same path for functional models (the residual teacher and the MobileNet-like student
           of Tests/Fixtures/keras-graph, on any IDX data such as Fashion-MNIST), and the logits
           swift-distill caches for the imported teacher against Keras's own; fails on a mismatch.

Weights go through safetensors (PyPI `safetensors`): the format swift-distill already writes, with
no HDF5 library in the binary. Kernels keep Keras's layouts (Conv2D HWIO, Dense [in, out]).

Needs: python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras safetensors
Run:   /tmp/tfenv/bin/python scripts/keras-roundtrip.py import teacher.keras teacher.safetensors --role teacher
"""
import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402
from safetensors import safe_open  # noqa: E402
from swift_distill_checksum import checksum, read as read_in_file_order  # noqa: E402

FORMAT = "swift-distill/1"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "keras-roundtrip")


def weight_name(layer, variable):
    """'kernel' for Keras 3's variable path 'conv2d_2/kernel'. An unnamed add_weight (ConvNeXt's LayerScale) is
    'variable', 'variable_1', ... by its order in the session: 'variable' for all, as swift-distill names it."""
    name = variable.path.split("/")[-1] if hasattr(variable, "path") else variable.name.split("/")[-1].split(":")[0]
    return "variable" if name.startswith("variable_") and name[len("variable_"):].isdigit() else name


def leaf_layers(model):
    """The layers that hold weights, a nested Sequential or functional model expanded as swift-distill expands it."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def to_checkpoint(model, role, path):
    tensors = {}
    for layer in leaf_layers(model):
        for variable in layer.weights:
            # np.array, not np.ascontiguousarray, which makes a scalar (Normalization's count) a vector of one.
            tensors[f"{layer.name}.{weight_name(layer, variable)}"] = np.array(variable.numpy(), dtype=np.float32, order="C")
    metadata = {"format": FORMAT, "model": model.to_json(), "role": role, "producer": f"keras {keras.__version__}"}
    save_file(tensors, path, metadata=metadata)
    # The checksum swift-distill checks covers the tensors in file order: read it back, sign, write again.
    metadata["checksum"] = checksum(read_in_file_order(path)[0], metadata)
    save_file(tensors, path, metadata=metadata)


def from_checkpoint(path):
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata()
    if metadata.get("format") != FORMAT or "model" not in metadata:
        sys.exit(f"{path}: not a swift-distill checkpoint that carries its model (format {metadata.get('format')})")
    model = keras.models.model_from_json(metadata["model"])
    tensors = load_file(path)
    for layer in leaf_layers(model):
        if layer.weights:
            layer.set_weights([tensors.pop(f"{layer.name}.{weight_name(layer, v)}") for v in layer.weights])
            if hasattr(layer, "finalize_state"):   # Normalization: its call reads mean and variance from there,
                layer.finalize_state()              # as after loading a saved model
    if tensors:
        sys.exit(f"{path}: tensors with no layer in the model: {sorted(tensors)}")
    return model, metadata


def fixture_models():
    """Two small models made in one session, so the second's layers are numbered on (conv2d_2, ...)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(7)
    first = keras.Sequential([
        keras.Input(shape=(9, 7, 2)),
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        layers.AveragePooling2D(2, strides=1, padding="same"),
        layers.Conv2D(5, (2, 3), use_bias=False),
        layers.LeakyReLU(negative_slope=0.1),
        layers.MaxPooling2D(2, padding="same"),
        layers.Flatten(),
        layers.Dense(6, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ], name="first")
    second = keras.Sequential([
        keras.Input(shape=(6, 6, 3)),
        layers.Conv2D(4, 3, bias_initializer="ones"),
        layers.BatchNormalization(momentum=0.9, epsilon=0.01),
        layers.ReLU(),
        layers.GlobalAveragePooling2D(),
        layers.Dense(3),
        layers.Activation("linear"),
    ], name="second")
    return [first, second]


def every_layer_models():
    """A teacher and a student for 28 x 28 x 1 images that between them use every layer type
    swift-distill reads (the data-parallel equivalence test trains and distils them)."""
    keras.backend.clear_session()
    teacher = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(negative_slope=0.2),
        layers.MaxPooling2D(2, strides=1, padding="same"),
        layers.Conv2D(16, 3, strides=2),
        layers.ReLU(),
        layers.AveragePooling2D(2, padding="same"),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dense(10),
        layers.Activation("softmax"),
    ], name="every_layer_teacher")
    student = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(8, 3, strides=2, activation="relu"),
        layers.BatchNormalization(momentum=0.9),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.1),
        layers.Dense(10, activation="softmax"),
    ], name="every_layer_student")
    return teacher, student


def fixtures(directory):
    os.makedirs(directory, exist_ok=True)
    for model in every_layer_models():
        with open(os.path.join(directory, f"{model.name.replace('_', '-')}.json"), "w") as f:
            f.write(model.to_json())
    rng = np.random.default_rng(11)
    for model in fixture_models():
        # Biases start at zero in Keras; give every weight a value so that each one matters (moving
        # variances positive).
        model.set_weights([rng.uniform(0.5 if "variance" in w.path else -1, 1.5 if "variance" in w.path else 1, w.shape)
                           .astype(np.float32) for w in model.weights])
        inputs = rng.uniform(0, 1, (5,) + tuple(model.input_shape[1:])).astype(np.float32)
        outputs = model.predict(inputs, verbose=0).astype(np.float32)
        to_checkpoint(model, "student", os.path.join(directory, f"{model.name}.safetensors"))
        save_file({"inputs": inputs, "outputs": outputs}, os.path.join(directory, f"{model.name}-io.safetensors"),
                  metadata={"softmax": json.dumps(model.layers[-1].get_config().get("activation") == "softmax"),
                            "producer": f"keras {keras.__version__}"})
        print(f"wrote {model.name}: {[layer.name for layer in model.layers]}")


def selftest(directory):
    fixtures(directory)
    for name in ("first", "second"):
        model, _ = from_checkpoint(os.path.join(directory, f"{name}.safetensors"))
        io = load_file(os.path.join(directory, f"{name}-io.safetensors"))
        got = model.predict(io["inputs"], verbose=0)
        error = float(np.max(np.abs(got - io["outputs"])))
        print(f"{name}: exported back to Keras, largest output difference {error:.2e}")
        if error > 1e-6:
            sys.exit(f"{name}: round trip changed the outputs")


def read_idx(path):
    import gzip
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def logits_model(model):
    """The model without a final softmax: its outputs are the logits distillation needs."""
    last = model.layers[-1]
    if isinstance(last, layers.Activation) and last.get_config()["activation"] == "softmax":
        if not isinstance(model, keras.Sequential):
            return keras.Model(model.inputs, last.input)
        return keras.Sequential([keras.Input(model.input_shape[1:])] + model.layers[:-1])
    if last.get_config().get("activation") == "softmax":
        last.activation = keras.activations.linear
    return model


def write_logits(model_path, data, output):
    images = read_idx(f"{data}/train-images-idx3-ubyte").astype(np.float32) / 255
    if images.ndim == 3:
        images = images[..., None]
    logits = logits_model(keras.models.load_model(model_path)).predict(images, batch_size=256, verbose=0)
    save_file({"logits": np.ascontiguousarray(logits, dtype=np.float32)}, output,
              metadata={"producer": f"keras {keras.__version__}", "model": os.path.basename(model_path)})
    print(f"wrote {output}: logits {list(logits.shape)}")


def ensemble(data, output, members):
    """Mean logits of several teachers (Keras .keras files or swift-distill checkpoints): prints each
    member's and the ensemble's test accuracy and writes the ensemble's training logits for
    `--teacher-logits`."""
    def images_of(split):
        x = read_idx(f"{data}/{split}-images-idx3-ubyte").astype(np.float32) / 255
        return x[..., None] if x.ndim == 3 else x
    x_train, x_test = images_of("train"), images_of("t10k")
    y_test = read_idx(f"{data}/t10k-labels-idx1-ubyte").astype(np.int64)
    train_sum, test_sum = 0, 0
    for path in members:
        model = keras.models.load_model(path) if path.endswith(".keras") else from_checkpoint(path)[0]
        model = logits_model(model)
        test_logits = model.predict(x_test, batch_size=500, verbose=0)
        print(f"{path}: test accuracy {np.mean(test_logits.argmax(1) == y_test):.2%}", flush=True)
        train_sum = train_sum + model.predict(x_train, batch_size=500, verbose=0)
        test_sum = test_sum + test_logits
    print(f"ensemble of {len(members)} (mean logits): test accuracy {np.mean(test_sum.argmax(1) == y_test):.2%}")
    save_file({"logits": np.ascontiguousarray(train_sum / len(members), dtype=np.float32)}, output,
              metadata={"producer": f"keras {keras.__version__}", "model": "mean logits of " + ", ".join(os.path.basename(m) for m in members)})
    print(f"wrote {output}: logits {list(train_sum.shape)}")


def keras_accuracy(model, images, labels):
    logits = model.predict(images, batch_size=256, verbose=0)
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def mnist(data, distill, work):
    import re
    import subprocess
    os.makedirs(work, exist_ok=True)
    x_train = read_idx(f"{data}/train-images-idx3-ubyte")[..., None].astype(np.float32) / 255
    y_train = read_idx(f"{data}/train-labels-idx1-ubyte").astype(np.int64)
    x_test = read_idx(f"{data}/t10k-images-idx3-ubyte")[..., None].astype(np.float32) / 255
    y_test = read_idx(f"{data}/t10k-labels-idx1-ubyte").astype(np.int64)
    keras.utils.set_random_seed(42)
    teacher = keras.models.model_from_json(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources",
                                                             "Distill", "Presets", "keras-teacher.json")).read())
    teacher.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
    teacher.save(f"{work}/teacher.keras")
    print(f"Keras teacher (1 epoch): test accuracy {100 * keras_accuracy(teacher, x_test, y_test):.2f}%")
    to_checkpoint(keras.models.load_model(f"{work}/teacher.keras"), "teacher", f"{work}/teacher.safetensors")
    out = subprocess.run([distill, "evaluate", "--data-dir", data, "--model", f"{work}/teacher.safetensors"],
                         capture_output=True, text=True, check=True).stdout
    print("distill evaluate of the imported teacher: " + re.search(r"test accuracy [0-9.]+%", out).group(0))
    out = subprocess.run([distill, "distill-student", "--data-dir", data, "--teacher", f"{work}/teacher.safetensors",
                          "--student-epochs", "1", "--plain", "--output", f"{work}/student.safetensors"],
                         capture_output=True, text=True, check=True).stdout
    print("distill-student from it: " + re.search(r"distilled student test accuracy [0-9.]+%", out).group(0))
    student, _ = from_checkpoint(f"{work}/student.safetensors")
    student.save(f"{work}/student.keras")
    print(f"the student exported to Keras: test accuracy {100 * keras_accuracy(student, x_test, y_test):.2f}%")


def graph(data, distill, work, limit):
    """Functional models both ways: Keras trains the residual teacher, swift-distill imports it, caches its
    logits (compared with Keras's within 1e-4 x max(1, |Keras's|)) and distils the MobileNet-like student,
    which Keras reads back and evaluates."""
    import re
    import subprocess
    os.makedirs(work, exist_ok=True)
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "keras-graph")
    x_train = read_idx(f"{data}/train-images-idx3-ubyte")[:limit, ..., None].astype(np.float32) / 255
    y_train = read_idx(f"{data}/train-labels-idx1-ubyte")[:limit].astype(np.int64)
    x_test = read_idx(f"{data}/t10k-images-idx3-ubyte")[..., None].astype(np.float32) / 255
    y_test = read_idx(f"{data}/t10k-labels-idx1-ubyte").astype(np.int64)
    keras.utils.set_random_seed(42)
    teacher = keras.models.model_from_json(open(os.path.join(fixtures, "residual.json")).read())
    teacher.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
    teacher.save(f"{work}/teacher.keras")
    print(f"Keras residual teacher (1 epoch, {len(x_train)} images): test accuracy {100 * keras_accuracy(teacher, x_test, y_test):.2f}%")
    to_checkpoint(keras.models.load_model(f"{work}/teacher.keras"), "teacher", f"{work}/teacher.safetensors")
    common = ["--data-dir", data, "--train-limit", str(len(x_train))]
    out = subprocess.run([distill, "evaluate", "--data-dir", data, "--model", f"{work}/teacher.safetensors"],
                         capture_output=True, text=True, check=True).stdout
    print("distill evaluate of the imported teacher: " + re.search(r"test accuracy [0-9.]+%", out).group(0))
    out = subprocess.run([distill, "distill-student", "--teacher", f"{work}/teacher.safetensors", "--plain",
                          "--student-model", os.path.join(fixtures, "mobilenet-like.json"), "--student-epochs", "1",
                          "--output", f"{work}/student.safetensors"] + common, capture_output=True, text=True, check=True).stdout
    print("distill-student (MobileNet-like) from it: " + re.search(r"distilled student test accuracy [0-9.]+%", out).group(0))
    cached = load_file(f"{work}/teacher.safetensors.logits.safetensors")["logits"]
    keras_logits = teacher.predict(x_train, batch_size=256, verbose=0)
    if cached.shape != keras_logits.shape:
        sys.exit(f"graph: swift-distill cached logits of shape {cached.shape}, Keras computed {keras_logits.shape}")
    error = float(np.max(np.abs(cached - keras_logits) / np.maximum(1, np.abs(keras_logits))))
    print(f"teacher logits in swift-distill's cache against Keras's, {len(cached)} training images: "
          f"largest difference {error:.2e} x max(1, |Keras's|)")
    student, _ = from_checkpoint(f"{work}/student.safetensors")
    student.save(f"{work}/student.keras")
    out = subprocess.run([distill, "evaluate", "--data-dir", data, "--model", f"{work}/student.safetensors"],
                         capture_output=True, text=True, check=True).stdout
    mine = float(re.search(r"test accuracy ([0-9.]+)%", out).group(1))
    theirs = 100 * keras_accuracy(keras.models.load_model(f"{work}/student.keras"), x_test, y_test)
    print(f"the student: distill evaluate {mine:.2f}%, exported to Keras {theirs:.2f}%")
    if cached.shape != keras_logits.shape or error > 1e-4 or abs(mine - theirs) > 0.011:
        sys.exit("graph: swift-distill and Keras disagree")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import")
    p.add_argument("keras_model")
    p.add_argument("checkpoint")
    p.add_argument("--role", choices=["teacher", "student"], default="teacher")
    p = sub.add_parser("export")
    p.add_argument("checkpoint")
    p.add_argument("keras_model", help="a .keras file")
    p = sub.add_parser("logits")
    p.add_argument("keras_model")
    p.add_argument("output")
    p.add_argument("--data", default="data/mnist", help="directory with train-images-idx3-ubyte (plain or .gz)")
    p = sub.add_parser("ensemble")
    p.add_argument("output", help="where to write the ensemble's training logits")
    p.add_argument("members", nargs="+", help=".keras files or swift-distill checkpoints")
    p.add_argument("--data", default="data/mnist", help="directory with MNIST's four IDX files (plain or .gz)")
    p = sub.add_parser("fixtures")
    p.add_argument("--directory", default=FIXTURES)
    p = sub.add_parser("mnist")
    p.add_argument("--data", default="data/mnist", help="directory with MNIST's four IDX files (uncompressed)")
    p.add_argument("--distill", default=".build/release/distill")
    p.add_argument("--work", default="/tmp/keras-roundtrip-mnist")
    p = sub.add_parser("graph")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="directory with four IDX files (plain or .gz)")
    p.add_argument("--distill", default=".build/release/distill")
    p.add_argument("--work", default="/tmp/keras-roundtrip-graph")
    p.add_argument("--limit", type=int, default=60000, help="training images used (the first N)")
    p = sub.add_parser("selftest")
    p.add_argument("--directory", default="/tmp/keras-roundtrip-selftest")
    args = parser.parse_args()
    if args.command == "import":
        to_checkpoint(keras.models.load_model(args.keras_model), args.role, args.checkpoint)
    elif args.command == "export":
        model, metadata = from_checkpoint(args.checkpoint)
        model.save(args.keras_model)
        print(f"wrote {args.keras_model} ({metadata.get('role')} {model.name}, {model.count_params()} parameters)")
    elif args.command == "logits":
        write_logits(args.keras_model, args.data, args.output)
    elif args.command == "ensemble":
        ensemble(args.data, args.output, args.members)
    elif args.command == "fixtures":
        fixtures(args.directory)
    elif args.command == "mnist":
        mnist(args.data, args.distill, args.work)
    elif args.command == "graph":
        graph(args.data, args.distill, args.work, args.limit)
    else:
        selftest(args.directory)


if __name__ == "__main__":
    main()
