#!/usr/bin/env python3
"""Speed of the Keras example's recipe (Keras 3, TensorFlow CPU) against swift-distill, same machine.

Usage (not part of the test command; needs only the PyPI packages tensorflow-cpu and keras):

    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
    /tmp/tfenv/bin/python scripts/keras-speed.py [--rounds 2] [--teacher-epochs 5] [--student-epochs 3]
        [--train-limit N] [--test-limit N] [--ranks 2] [--distill PATH] [--distill-args "..."]
        [--output report.md] [--json runs.json]     (extra distill flags: --distill-args="--seed 3")
        [--teacher-model T.json --student-model S.json]   (any Keras model JSON both tools read)

Each round runs the Keras recipe in a fresh child process (KERAS_BACKEND=tensorflow, default
TensorFlow threads) and `mpirun -np RANKS distill --plain` one after the other, never at once: Keras
first in odd rounds, swift-distill first in even ones. The Keras side is the example's recipe: teacher
fit (Adam, batch 32), the example's Distiller (teacher frozen and run forward on every batch, alpha 0.1,
T 10) and a scratch student, each evaluated on the test set. Measured: every epoch's wall time (first
epoch shown apart: it includes Keras's tracing), samples/s of the later epochs, test accuracies, the
Keras recipe's wall time (teacher fit to last evaluation) and both tools' whole-process wall time
(including imports, MPI start-up and data loading). The Markdown report goes to stdout, progress and
log paths to stderr.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
PHASES = ["teacher", "distillation", "scratch"]
SWIFT_PHASES = {"teacher": "teacher", "student (distilled)": "distillation", "student (scratch)": "scratch"}


def fail(message):
    sys.exit(f"error: {message}")


# ---------------------------------------------------------------- Keras child (fresh process per run)

def keras_child(data_dir, teacher_epochs, student_epochs, train_limit, test_limit, out_path, teacher_json="-", student_json="-"):
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    import tensorflow as tf
    import keras
    from keras import layers, ops

    def load_idx(path, count):
        import gzip
        data = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
        dims = data[3]
        shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
        return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)[:count]

    def mnist(prefix, count):
        x = load_idx(f"{data_dir}/{prefix}-images-idx3-ubyte", count).reshape(-1, 28, 28, 1).astype("float32") / 255.0
        return x, load_idx(f"{data_dir}/{prefix}-labels-idx1-ubyte", count).astype("int64")

    def cnn(f1, f2, name):
        return keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(f1, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(f2, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10)], name=name)

    class Distiller(keras.Model):  # the example's Distiller, Keras 3 form
        def __init__(self, student, teacher):
            super().__init__()
            self.teacher, self.student = teacher, student

        def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn, alpha=0.1, temperature=3):
            super().compile(optimizer=optimizer, metrics=metrics)
            self.student_loss_fn, self.distillation_loss_fn = student_loss_fn, distillation_loss_fn
            self.alpha, self.temperature = alpha, temperature

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
            teacher_pred = self.teacher(x, training=False)
            student_loss = self.student_loss_fn(y, y_pred)
            distillation_loss = self.distillation_loss_fn(
                ops.softmax(teacher_pred / self.temperature, axis=1),
                ops.softmax(y_pred / self.temperature, axis=1)) * self.temperature ** 2
            return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

        def call(self, x):
            return self.student(x)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    def plain_compile(model):
        model.compile(optimizer=keras.optimizers.Adam(),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=[keras.metrics.SparseCategoricalAccuracy()])

    x_train, y_train = mnist("train", train_limit)
    x_test, y_test = mnist("t10k", test_limit)
    print(f"Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, Keras {keras.__version__}; "
          f"{len(x_train)} training, {len(x_test)} test samples", flush=True)
    def from_json(path):
        """A model as swift-distill trains it: a final softmax is left out of the logits."""
        model = keras.models.model_from_json(open(path).read())
        last = model.layers[-1]
        if isinstance(last, layers.Activation) and last.get_config()["activation"] == "softmax":
            return keras.Model(model.inputs, last.input)
        if last.get_config().get("activation") == "softmax":
            last.activation = keras.activations.linear
        return model

    teacher = cnn(256, 512, "teacher") if teacher_json == "-" else from_json(teacher_json)
    student = cnn(16, 32, "student") if student_json == "-" else from_json(student_json)
    scratch = keras.models.clone_model(student)
    timers, accuracy = {p: EpochTimer() for p in PHASES}, {}
    start = time.perf_counter()

    print("== teacher", flush=True)
    plain_compile(teacher)
    teacher.fit(x_train, y_train, batch_size=32, epochs=teacher_epochs, verbose=2, callbacks=[timers["teacher"]])
    accuracy["teacher"] = teacher.evaluate(x_test, y_test, verbose=2, return_dict=True)["sparse_categorical_accuracy"]

    print("== distillation", flush=True)
    teacher.trainable = False
    before = [w.copy() for w in teacher.get_weights()]
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(optimizer=keras.optimizers.Adam(), metrics=[keras.metrics.SparseCategoricalAccuracy()],
                      student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      distillation_loss_fn=keras.losses.KLDivergence(), alpha=0.1, temperature=10)
    distiller.fit(x_train, y_train, batch_size=32, epochs=student_epochs, verbose=2, callbacks=[timers["distillation"]])
    accuracy["distillation"] = distiller.evaluate(x_test, y_test, verbose=2, return_dict=True)["sparse_categorical_accuracy"]
    teacher_change = max(float(np.abs(a - b).max()) for a, b in zip(before, teacher.get_weights()))
    trainable = {id(v) for v in distiller.trainable_variables}
    print(f"teacher weights max change during distillation: {teacher_change}; distiller trains "
          f"{len(distiller.trainable_variables)} variables, {sum(id(v) in trainable for v in teacher.weights)} of them the teacher's",
          flush=True)

    print("== scratch", flush=True)
    plain_compile(scratch)
    scratch.fit(x_train, y_train, batch_size=32, epochs=student_epochs, verbose=2, callbacks=[timers["scratch"]])
    accuracy["scratch"] = scratch.evaluate(x_test, y_test, verbose=2, return_dict=True)["sparse_categorical_accuracy"]
    recipe = time.perf_counter() - start

    result = {"python": sys.version.split()[0], "tensorflow": tf.__version__, "keras": keras.__version__,
              "train": len(x_train), "test": len(x_test), "recipe_seconds": recipe,
              "epochs": {p: t.seconds for p, t in timers.items()}, "accuracy": accuracy,
              "teacher_max_change": teacher_change}
    with open(out_path, "w") as f:
        json.dump(result, f)


# ---------------------------------------------------------------- the two runs

def run_keras(args, work, tag):
    out, log = os.path.join(work, f"keras-{tag}.json"), os.path.join(work, f"keras-{tag}.log")
    command = [sys.executable, os.path.abspath(__file__), "keras-child", args.data_dir, str(args.teacher_epochs),
               str(args.student_epochs), str(args.train_limit or 0), str(args.test_limit or 0), out,
               args.teacher_model or "-", args.student_model or "-"]
    print(f"  Keras: log {log}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with open(log, "w") as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT)
    total = time.perf_counter() - start
    if code != 0 or not os.path.exists(out):
        fail(f"Keras child failed (exit {code}), see {log}")
    result = json.load(open(out))
    result["total_seconds"] = total
    return result


def run_swift(args, work, tag):
    log = os.path.join(work, f"swift-{tag}.log")
    if not os.access(args.distill, os.X_OK):
        fail(f"distill binary not found or not executable: {args.distill}")
    command = ["mpirun"] + (["--allow-run-as-root"] if os.geteuid() == 0 else []) + [
        "--hostfile", os.path.join(ROOT, "hostfiles/localhost"), "-np", str(args.ranks), "--bind-to", "none",
        "--mca", "btl_vader_single_copy_mechanism", "none", args.distill, "--plain", "--data-dir", args.data_dir,
        "--teacher-epochs", str(args.teacher_epochs), "--student-epochs", str(args.student_epochs)]
    for flag, value in [("--train-limit", args.train_limit), ("--test-limit", args.test_limit),
                        ("--teacher-model", args.teacher_model), ("--student-model", args.student_model)]:
        if value:
            command += [flag, str(value)]
    command += args.distill_args.split()
    print(f"  swift-distill: log {log}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    with open(log, "w") as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
    total = time.perf_counter() - start
    text = open(log).read()
    if code != 0:
        fail(f"swift-distill failed (exit {code}), see {log}")
    epochs = {p: [] for p in PHASES}
    for name, seconds in re.findall(r"^(teacher|student \(distilled\)|student \(scratch\)) - epoch \d+/\d+ - ([\d.]+)s", text, re.M):
        epochs[SWIFT_PHASES[name]].append(float(seconds))
    accuracy = {}
    for phase, name in [("teacher", "teacher"), ("distillation", "distilled student"), ("scratch", "scratch student")]:
        found = re.search(rf"^{name} test accuracy ([\d.]+)%", text, re.M)
        if found:
            accuracy[phase] = float(found.group(1)) / 100
    data = re.search(r"(\d+) training, (\d+) test samples", text)
    logits = re.search(r"computed once in ([\d.]+) s", text)
    layout = re.search(r"^layout: .*$", text, re.M)
    if not all(epochs.values()) or len(accuracy) < 3 or not data:
        fail(f"could not parse swift-distill's output, see {log}")
    return {"epochs": epochs, "accuracy": accuracy, "total_seconds": total, "train": int(data.group(1)),
            "test": int(data.group(2)), "layout": layout.group(0) if layout else "layout: ?",
            "teacher_logits_seconds": float(logits.group(1)) if logits else None}


# ---------------------------------------------------------------- report

def speed(runs, phase):
    """First-epoch seconds, later-epochs mean seconds, samples/s (None if a time is 0), one-epoch fallback flag."""
    firsts = [r["epochs"][phase][0] for r in runs]
    laters = [statistics.mean(r["epochs"][phase][1:] or r["epochs"][phase][:1]) for r in runs]
    first, later = statistics.mean(firsts), statistics.mean(laters)
    return first, later, (runs[0]["train"] / later if later > 0 else None), len(runs[0]["epochs"][phase]) == 1


def number(value, digits=1):
    return "n/a" if value is None else f"{value:,.{digits}f}"


def report(args, runs, cpu, work):
    k0, s0 = runs[0]["keras"], runs[0]["swift"]
    lines = ["# Keras 3 (TensorFlow CPU) against swift-distill", "",
             f"- settings: teacher {args.teacher_epochs} epochs, students {args.student_epochs} epochs, batch 32, "
             f"{k0['train']} training / {k0['test']} test samples (swift-distill: {s0['train']} / {s0['test']}), "
             f"{args.ranks} MPI ranks, {len(runs)} round(s), distill args: `{args.distill_args or '-'}`",
             f"- models: teacher {os.path.basename(args.teacher_model) if args.teacher_model else 'the example CNN'}, "
             f"student {os.path.basename(args.student_model) if args.student_model else 'the example CNN'}; data {args.data_dir}",
             f"- Python {k0['python']}, TensorFlow {k0['tensorflow']}, Keras {k0['keras']} (default TF threads)",
             f"- CPU: {cpu}", f"- swift-distill `{s0['layout']}`", f"- logs: {work}", ""]
    single = False
    groups = [(f"round {i + 1}", [r]) for i, r in enumerate(runs)]
    for label, group in groups + ([(f"mean over {len(runs)} rounds", runs)] if len(runs) > 1 else []):
        lines += [f"## Epochs, {label}", "", "| phase | tool | epoch 1 s | later epochs s | samples/s | swift / Keras samples/s |",
                  "|---|---|---:|---:|---:|---:|"]
        for phase in PHASES:
            kf, kl, ks, k1 = speed([r["keras"] for r in group], phase)
            sf, sl, ss, s1 = speed([r["swift"] for r in group], phase)
            single |= k1 or s1
            ratio = number(ss / ks, 2) if ss and ks else "n/a"
            lines.append(f"| {phase} | Keras | {kf:.1f} | {kl:.1f}{'*' if k1 else ''} | {number(ks, 0)} | |")
            lines.append(f"| {phase} | swift-distill | {sf:.1f} | {sl:.1f}{'*' if s1 else ''} | {number(ss, 0)} | {ratio} |")
        lines.append("")
    if single:
        lines += ["\\* one epoch only: the figure is epoch 1's (for Keras it includes tracing).", ""]
    lines += ["## Whole recipe, wall seconds", "",
              "| round | Keras recipe | Keras total | swift-distill total | swift / Keras (total) | swift / Keras recipe |",
              "|---|---:|---:|---:|---:|---:|"]
    rows = [(f"{i + 1}", r["keras"]["recipe_seconds"], r["keras"]["total_seconds"], r["swift"]["total_seconds"]) for i, r in enumerate(runs)]
    rows.append(("mean",) + tuple(statistics.mean(row[j] for row in rows) for j in (1, 2, 3)))
    for name, recipe, ktotal, stotal in rows:
        lines.append(f"| {name} | {recipe:.1f} | {ktotal:.1f} | {stotal:.1f} | {stotal / ktotal:.2f} | {stotal / recipe:.2f} |")
    lines += ["", "Keras recipe: start of teacher training to after the last evaluation. Totals: process start to exit, "
              "including Python/TensorFlow imports (Keras) or MPI start-up (swift-distill) and data loading; "
              "swift-distill's total runs to its final table.", "",
              "## Test accuracy", "", "| round | tool | teacher | distilled student | scratch student | notes |", "|---|---|---:|---:|---:|---|"]
    for i, r in enumerate(runs):
        k, s = r["keras"], r["swift"]
        lines.append(f"| {i + 1} | Keras | " + " | ".join(f"{k['accuracy'][p]:.2%}" for p in PHASES)
                     + f" | teacher max weight change during distillation: {k['teacher_max_change']:g} |")
        lines.append(f"| {i + 1} | swift-distill | " + " | ".join(f"{s['accuracy'][p]:.2%}" for p in PHASES)
                     + f" | teacher logits computed once in {number(s['teacher_logits_seconds'])} s |")
    lines += ["", "The Keras Distiller runs the frozen teacher forward on every batch, inside its distillation epochs; "
              "swift-distill computes the teacher's logits once before distilling (time in the notes, not in its epochs). "
              "swift-distill prints epoch times to 0.1 s, so very short epochs show as n/a samples/s."]
    return "\n".join(lines) + "\n"


def cpu_description():
    model = "?"
    try:
        model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        fields = dict(l.split(":", 1) for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if ":" in l)
        model += f" (family {fields['CPU family'].strip()}, model {fields['Model'].strip()})"
    except (OSError, KeyError):
        pass
    return f"{model}, {os.cpu_count()} cores"


def main():
    parser = argparse.ArgumentParser(description="Keras 3 (TensorFlow CPU) against swift-distill, same machine.")
    parser.add_argument("--data-dir", default=os.path.join(ROOT, "data/mnist"))
    parser.add_argument("--teacher-epochs", type=int, default=5)
    parser.add_argument("--student-epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int)
    parser.add_argument("--test-limit", type=int)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--distill", default=os.path.join(ROOT, ".build/release/distill"))
    parser.add_argument("--distill-args", default="", help="extra arguments for distill, one string")
    parser.add_argument("--output", help="also write the Markdown report here")
    parser.add_argument("--json", help="write the raw per-run figures here")
    parser.add_argument("--teacher-model", help="the teacher as a Keras model JSON (default: the example's CNN)")
    parser.add_argument("--student-model", help="the student as a Keras model JSON (default: the example's CNN)")
    args = parser.parse_args()
    for flag in ["teacher_model", "student_model"]:
        if getattr(args, flag):
            setattr(args, flag, os.path.abspath(getattr(args, flag)))
            if not os.path.isfile(getattr(args, flag)):
                fail(f"--{flag.replace('_', '-')} {getattr(args, flag)}: no such file")
    args.data_dir, args.distill = os.path.abspath(args.data_dir), os.path.abspath(args.distill)
    for name in FILES:
        path = os.path.join(args.data_dir, name)
        if not os.path.isfile(path) and not os.path.isfile(path + ".gz"):
            fail(f"missing IDX file {path} (or {name}.gz)")
    if not os.access(args.distill, os.X_OK):
        fail(f"distill binary not found or not executable: {args.distill}")
    if shutil.which("mpirun") is None:
        fail("mpirun not found on PATH")
    if min(args.teacher_epochs, args.student_epochs, args.rounds, args.ranks) < 1:
        fail("epochs, rounds and ranks must be at least 1")
    versions = []
    for package in ["tensorflow-cpu", "tensorflow", "keras"]:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            pass
    cpu = cpu_description()
    print(f"Python {sys.version.split()[0]}, {', '.join(versions)}; CPU: {cpu}", file=sys.stderr)
    work = tempfile.mkdtemp(prefix="keras-speed-")
    runs = []
    for r in range(1, args.rounds + 1):
        print(f"round {r}/{args.rounds}: {'Keras first' if r % 2 else 'swift-distill first'}", file=sys.stderr, flush=True)
        if r % 2:
            keras_result = run_keras(args, work, r)
            swift_result = run_swift(args, work, r)
        else:
            swift_result = run_swift(args, work, r)
            keras_result = run_keras(args, work, r)
        runs.append({"round": r, "keras": keras_result, "swift": swift_result})
    text = report(args, runs, cpu, work)
    print(text, end="")
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": {k: v for k, v in vars(args).items()}, "cpu": cpu, "logs": work, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) == 10 and sys.argv[1] == "keras-child":
        a = sys.argv[2:]
        keras_child(a[0], int(a[1]), int(a[2]), int(a[3]) or None, int(a[4]) or None, a[5], a[6], a[7])
    else:
        main()
