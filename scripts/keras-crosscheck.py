#!/usr/bin/env python3
"""Cross-checks swift-distill against Keras 3 (JAX backend) on this machine.

  keras-crosscheck.py evaluate DATA_DIR MODELS_DIR
      Loads teacher.safetensors, student-distilled.safetensors and student-scratch.safetensors
      (from `distill --save-directory MODELS_DIR`) into the Keras example's models and prints their
      test accuracy and loss: equal figures mean equal forward semantics (padding, pooling, layouts).

  keras-crosscheck.py replay DATA_DIR COUNT CHECKPOINT
      Rebuilds swift-distill's initial teacher weights and batch order for seed 42 (SplitMix64,
      Glorot-uniform draws, Fisher-Yates with Lemire's bounded draws, exactly as the Swift code),
      trains one epoch of COUNT samples in Keras, and compares with CHECKPOINT from
      `distill train-teacher --train-limit COUNT --teacher-epochs 1 --threads 1 --output CHECKPOINT`.

  keras-crosscheck.py replay-teacher DATA_DIR SEED RESULTS.jsonl
      Trains the teacher in Keras for 5 epochs from swift-distill's own initial weights and epoch
      orders for SEED (as `distill train-teacher --seed SEED` draws them) and appends its per-epoch
      losses and test accuracy to RESULTS.jsonl ("producer": "keras-replay"): paired with that
      swift-distill run, the only difference left is the arithmetic of the two frameworks.

  keras-crosscheck.py recipe DATA_DIR SEED
      Runs the Keras example's recipe itself (its own layers, initialisation and shuffling, seeded
      with keras.utils.set_random_seed(SEED)): teacher 5 epochs, distilled student 3 epochs (alpha
      0.1, T 10, frozen teacher), scratch student 3 epochs; prints the three test accuracies, to
      measure the spread of Keras's own results on this machine.

  keras-crosscheck.py distill DATA_DIR TEACHER SEED...
      Distils Keras example students (Keras's own initialisation and shuffling, one run per SEED)
      from a swift-distill teacher checkpoint, with the teacher's logits computed once (the example's
      Distiller runs the frozen teacher on every batch: the same loss and gradients), and prints each
      student's test accuracy: the Keras side of a paired comparison with `distill distill-student`.

  keras-crosscheck.py teacher DATA_DIR SEED RESULTS.jsonl [MODEL.keras]
      Trains the Keras example's teacher alone (5 epochs, its own initialisation and shuffling,
      keras.utils.set_random_seed(SEED)) on the backend KERAS_BACKEND names (tensorflow for the
      teacher comparison: JAX's LeakyReLU gradient at 0 differs), appends one JSON line with the
      seed, backend, per-epoch training losses and the test accuracy to RESULTS.jsonl, and saves the
      model when MODEL.keras is given (scripts/keras-roundtrip.py import makes it a checkpoint).
      Seeded this way, Keras 3.15 on TensorFlow 2.21 repeats the first epoch's order in every epoch
      (see epoch-orders); the unseeded example draws a new order each epoch.

  keras-crosscheck.py epoch-orders seeded|unseeded
      Fits a tiny model on 20 numbered samples for 3 epochs (shuffle=True, batch 5), with or without
      keras.utils.set_random_seed(1), records the order the samples arrive in (a Lambda layer, run
      eagerly; fit's data pipeline is the same as compiled) and says whether every epoch had the same
      order.

Needs `pip install keras jax` (a virtualenv is fine); not part of the test command.
"""
import json, os, struct, sys
os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras
from keras import layers

MASK = (1 << 64) - 1
NAMES = ["conv2d.kernel", "conv2d.bias", "conv2d_1.kernel", "conv2d_1.bias", "dense.kernel", "dense.bias"]


def load_safetensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header, body = json.loads(data[8:8 + n]), data[8 + n:]
    return {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def load_idx(path):
    data = open(path, "rb").read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data[4 + 4 * dims:], dtype=np.uint8).reshape(shape)


def mnist(directory, split, count=None):
    prefix = "train" if split == "train" else "t10k"
    x = load_idx(f"{directory}/{prefix}-images-idx3-ubyte")[:count].astype("float32").reshape(-1, 28, 28, 1) / 255.0
    y = load_idx(f"{directory}/{prefix}-labels-idx1-ubyte")[:count].astype("int64")
    return x, y


def example_model(f1, f2):
    """The Keras example's CNN. LeakyReLU is written as TensorFlow defines its gradient
    (alpha at exactly 0); jax.nn.leaky_relu's gradient at 0 is 1, which matters at initialisation,
    when zero biases meet zero background pixels."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(f1, (3, 3), strides=(2, 2), padding="same"),
        layers.Lambda(lambda t: keras.ops.where(t > 0, t, 0.2 * t)),
        layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
        layers.Conv2D(f2, (3, 3), strides=(2, 2), padding="same"),
        layers.Flatten(),
        layers.Dense(10)])


def set_weights(model, weights):
    for layer, prefix in [(model.layers[0], "conv2d"), (model.layers[3], "conv2d_1"), (model.layers[5], "dense")]:
        layer.set_weights([weights[f"{prefix}.kernel"], weights[f"{prefix}.bias"]])
    return model


def get_weights(model):
    out = {}
    for layer, prefix in [(model.layers[0], "conv2d"), (model.layers[3], "conv2d_1"), (model.layers[5], "dense")]:
        out[f"{prefix}.kernel"], out[f"{prefix}.bias"] = layer.get_weights()
    return out


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_float(self, low, high):  # Float32, in the Swift evaluation order
        u = np.float32(self.next() >> 40)
        return np.float32(low + np.float32(np.float32(np.float32(high - low) * u) / np.float32(1 << 24)))

    def bounded(self, bound):  # Lemire's multiply-and-reject
        product = self.next() * bound
        if product & MASK < bound:
            threshold = ((1 << 64) - bound) % bound
            while product & MASK < threshold:
                product = self.next() * bound
        return product >> 64


def purpose_seed(seed, purpose):
    return SplitMix64(seed ^ ((purpose * 0xD1B54A32D192ED03) & MASK)).next()


def initial_teacher(seed):
    rng = SplitMix64(purpose_seed(seed, 1))  # RecipeSettings.Purpose.teacherWeights
    shapes = [(3, 3, 1, 256), (256,), (3, 3, 256, 512), (512,), (25088, 10), (10,)]
    weights = {}
    for name, shape in zip(NAMES, shapes):
        if len(shape) < 2:
            weights[name] = np.zeros(shape, np.float32)
            continue
        receptive = int(np.prod(shape[:-2]))
        limit = np.float32(np.sqrt(6.0 / (receptive * shape[-2] + receptive * shape[-1])))
        values = np.empty(int(np.prod(shape)), np.float32)
        for i in range(values.size):
            values[i] = rng.next_float(-limit, limit)
        weights[name] = values.reshape(shape)
    return weights


def epoch_orders(seed, count, epochs):
    """The teacher's sample order in each epoch: one generator, a Fisher-Yates shuffle per epoch."""
    rng = SplitMix64(purpose_seed(seed, 11))  # RecipeSettings.Purpose.teacherShuffle
    orders = []
    for _ in range(epochs):
        order = list(range(count))
        for i in range(count - 1, 0, -1):
            j = rng.bounded(i + 1)
            order[i], order[j] = order[j], order[i]
        orders.append(order)
    return orders


def evaluate(directory, models):
    x, y = mnist(directory, "test")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for name, filters in [("teacher", (256, 512)), ("student-distilled", (16, 32)), ("student-scratch", (16, 32))]:
        model = set_weights(example_model(*filters), load_safetensors(f"{models}/{name}.safetensors"))
        logits = model.predict(x, batch_size=500, verbose=0)
        print(f"{name}: Keras test accuracy {(logits.argmax(1) == y).mean():.2%}, loss {float(loss(y, logits)):.4f}")


def replay(directory, count, checkpoint):
    initial = initial_teacher(42)
    order = epoch_orders(42, count, 1)[0]
    x, y = mnist(directory, "train", count)
    model = set_weights(example_model(256, 512), initial)
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x[order], y[order], batch_size=32, shuffle=False, epochs=1, verbose=0)
    print(f"Keras epoch loss {history.history['loss'][0]:.6f}")
    ours, theirs = load_safetensors(checkpoint), get_weights(model)
    for name in NAMES:
        difference = np.abs(theirs[name] - ours[name])
        moved = np.abs(initial[name] - ours[name])
        print(f"{name}: |Keras - swift-distill| max {difference.max():.2g}, mean {difference.mean():.2g}; "
              f"moved from init max {moved.max():.2g}, mean {moved.mean():.2g}")


def append_result(results, line):
    """Appends one run's JSON line to RESULTS.jsonl and prints it."""
    with open(results, "a") as f:
        f.write(json.dumps(line) + "\n")
    print(json.dumps(line), flush=True)


def replay_teacher(directory, seed, results):
    """The teacher trained in Keras from swift-distill's initial weights and epoch orders for SEED."""
    x, y = mnist(directory, "train")
    x_test, y_test = mnist(directory, "test")
    model = set_weights(example_model(256, 512), initial_teacher(seed))
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses = []
    for order in epoch_orders(seed, len(x), 5):
        history = model.fit(x[order], y[order], batch_size=32, shuffle=False, epochs=1, verbose=0)
        losses.append(round(float(history.history["loss"][0]), 5))
        print(f"seed {seed} epoch {len(losses)} loss {losses[-1]}", flush=True)
    line = {"producer": "keras-replay", "backend": keras.backend.backend(), "keras": keras.__version__, "seed": seed,
            "epoch_losses": losses, "test_accuracy": float(test_accuracy(model, x_test, y_test))}
    append_result(results, line)


def epoch_orders_of_fit(seeded):
    seen = []

    def record(t):  # run eagerly, so t holds the batch's values (not while Keras builds the model)
        try:
            seen.extend(int(v) for v in np.asarray(t).ravel())
        except Exception:
            pass
        return t
    if seeded:
        keras.utils.set_random_seed(1)
    x, y = np.arange(20, dtype="float32").reshape(20, 1), np.zeros((20, 1), dtype="float32")
    model = keras.Sequential([keras.Input((1,)), layers.Lambda(record), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    model.fit(x, y, batch_size=5, epochs=3, shuffle=True, verbose=0)
    if sorted(seen) != sorted(list(range(20)) * 3):
        sys.exit(f"recorded {seen}, expected each of the 20 samples once per epoch")
    orders = [seen[i:i + 20] for i in range(0, 60, 20)]
    same = orders[0] == orders[1] == orders[2]
    print(f"{keras.backend.backend()}, {'seeded' if seeded else 'unseeded'}: "
          f"{'the same order every epoch' if same else 'a new order each epoch'}: {orders}")


def keras_example_model(f1, f2):
    """The example's CNN with its own LeakyReLU layer (under JAX: gradient 1 at exactly 0)."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(f1, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
        layers.Conv2D(f2, (3, 3), strides=(2, 2), padding="same"),
        layers.Flatten(),
        layers.Dense(10)])


def test_accuracy(model, x_test, y_test):
    return (model.predict(x_test, batch_size=500, verbose=0).argmax(1) == y_test).mean()


def fit_distilled(student, x, y, teacher_logits, alpha=0.1, temperature=10.0):
    """The example's Distiller loss, alpha * CE(y, s) + (1 - alpha) * T^2 * KL(softmax(t/T) || softmax(s/T)),
    with the frozen teacher's logits computed once and passed next to the labels ([N, 1 + 10]); only
    the student trains, as in the example. (A Keras 3 port that overrides compute_loss without
    `teacher.trainable = False` also trains the teacher, through the KL term.)"""
    student_loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    distillation_loss_fn = keras.losses.KLDivergence()

    def loss(y_true, y_pred):
        labels, teacher_pred = y_true[:, 0], y_true[:, 1:]
        distill = distillation_loss_fn(keras.ops.softmax(teacher_pred / temperature, axis=1),
                                       keras.ops.softmax(y_pred / temperature, axis=1)) * temperature ** 2
        return alpha * student_loss_fn(labels, y_pred) + (1 - alpha) * distill

    packed = np.concatenate([y[:, None].astype("float32"), teacher_logits], axis=1)
    student.compile(optimizer=keras.optimizers.Adam(), loss=loss)
    return student.fit(x, packed, batch_size=32, epochs=3, verbose=0)


def recipe(directory, seed):
    keras.utils.set_random_seed(seed)
    x, y = mnist(directory, "train")
    x_test, y_test = mnist(directory, "test")
    teacher, student = keras_example_model(256, 512), keras_example_model(16, 32)
    scratch = keras.models.clone_model(student)
    teacher.compile(optimizer=keras.optimizers.Adam(),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=[keras.metrics.SparseCategoricalAccuracy()])
    teacher.fit(x, y, epochs=5, verbose=2)
    print(f"Keras recipe seed {seed}: teacher {test_accuracy(teacher, x_test, y_test):.2%}", flush=True)
    fit_distilled(student, x, y, teacher.predict(x, batch_size=500, verbose=0))
    scratch.compile(optimizer=keras.optimizers.Adam(),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    scratch.fit(x, y, epochs=3, verbose=0)
    print(f"Keras recipe seed {seed}: distilled student {test_accuracy(student, x_test, y_test):.2%}, "
          f"scratch student {test_accuracy(scratch, x_test, y_test):.2%}")


def teacher_only(directory, seed, results, model_path=None):
    keras.utils.set_random_seed(seed)
    x, y = mnist(directory, "train")
    x_test, y_test = mnist(directory, "test")
    teacher = keras_example_model(256, 512)
    teacher.compile(optimizer=keras.optimizers.Adam(),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=[keras.metrics.SparseCategoricalAccuracy()])
    history = teacher.fit(x, y, epochs=5, verbose=0)
    accuracy = float(test_accuracy(teacher, x_test, y_test))
    line = {"producer": "keras", "backend": keras.backend.backend(), "keras": keras.__version__, "seed": seed,
            "epoch_losses": [round(float(v), 5) for v in history.history["loss"]], "test_accuracy": accuracy}
    append_result(results, line)
    if model_path:
        teacher.save(model_path)


def distill_from(directory, teacher_path, seeds):
    x, y = mnist(directory, "train")
    x_test, y_test = mnist(directory, "test")
    teacher = set_weights(example_model(256, 512), load_safetensors(teacher_path))
    teacher_logits = teacher.predict(x, batch_size=500, verbose=0)
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        student = keras_example_model(16, 32)
        history = fit_distilled(student, x, y, teacher_logits)
        print(f"Keras student seed {seed}: epoch losses {[round(v, 4) for v in history.history['loss']]}, "
              f"test accuracy {test_accuracy(student, x_test, y_test):.2%}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "evaluate":
        evaluate(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "replay":
        replay(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "replay-teacher":
        replay_teacher(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "epoch-orders" and sys.argv[2] in ("seeded", "unseeded"):
        epoch_orders_of_fit(sys.argv[2] == "seeded")
    elif len(sys.argv) == 4 and sys.argv[1] == "recipe":
        recipe(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "teacher":
        teacher_only(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] if len(sys.argv) == 6 else None)
    elif len(sys.argv) >= 5 and sys.argv[1] == "distill":
        distill_from(sys.argv[2], sys.argv[3], [int(s) for s in sys.argv[4:]])
    else:
        sys.exit(__doc__)
