#!/usr/bin/env python3
"""Training-step throughput of any two Keras JSON models (teacher and student) in Keras 3 (TensorFlow
CPU) and in swift-distill, same machine, same batch, on synthetic data (throughput does not depend on
pixel values): for models with no dataset here, such as keras.applications' ResNet50V2 and
MobileNetV2 at 32 x 32 x 3.

Usage (not part of the test command; needs only the PyPI packages tensorflow-cpu and keras):

    python3 -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu keras
    /tmp/tfenv/bin/python scripts/keras-step-speed.py [--teacher-model T.json] [--student-model S.json]
        [--batch-size 32] [--steps 50] [--repeats 3] [--rounds 2] [--ranks 2] [--distill PATH]

Each round measures, one after the other and never at once (Keras first in odd rounds, swift-distill
first in even ones): Keras `fit` of each model (Adam, sparse categorical cross-entropy from logits,
default TensorFlow threads: every core) in a fresh child process, one epoch of `--steps` batches to
trace it, then `--repeats` timed epochs, of which the best counts (Keras's epochs vary up to twofold
within one process on a 2-core AMD EPYC, 78 against 150 samples/s for ResNet50V2); and `distill bench
--workloads teacher student --ranks RANKS` (ranks as threads of one process, which gives mpirun -np
RANKS's results), `--steps` timed steps after its warm-up. Both are one optimizer step per global batch of `--batch-size`. The Markdown report goes to
stdout, progress to stderr.
"""
import argparse, importlib.util, json, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRAPH = os.path.join(ROOT, "Tests/Fixtures/keras-graph")
ROLES = ["teacher", "student"]


def fail(message):
    sys.exit(f"error: {message}")


def keras_child(model_path, batch, steps, repeats, out_path):
    """One traced epoch of `steps` batches, then `repeats` timed ones; writes each timed epoch's samples/s and versions to out_path."""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np
    import tensorflow as tf
    import keras

    model = keras.models.model_from_json(open(model_path).read())
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    classes = model.output_shape[-1]
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, classes, batch * steps)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache()
    model.fit(batches, epochs=1, verbose=0)   # traces the step and fills the cache
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(batches, epochs=1, verbose=0)
        rates.append(batch * steps / (time.perf_counter() - start))
    json.dump({"samples_per_s": rates, "tensorflow": tf.__version__, "keras": keras.__version__,
               "input": list(model.input_shape[1:]), "parameters": model.count_params()}, open(out_path, "w"))


def run_keras(args, model, work, tag):
    out, log = os.path.join(work, f"keras-{tag}.json"), os.path.join(work, f"keras-{tag}.log")
    command = [sys.executable, os.path.abspath(__file__), "keras-child", model, str(args.batch_size), str(args.steps), str(args.repeats), out]
    print(f"  Keras {os.path.basename(model)}: log {log}", file=sys.stderr, flush=True)
    with open(log, "w") as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT)
    if code != 0 or not os.path.exists(out):
        fail(f"Keras child failed (exit {code}), see {log}")
    return json.load(open(out))


def run_swift(args, work, tag):
    """samples/s of the teacher and student workloads, from bench's CSV lines."""
    log = os.path.join(work, f"swift-{tag}.log")
    if not os.access(args.distill, os.X_OK):
        fail(f"distill binary not found or not executable: {args.distill}")
    command = [args.distill, "bench", "--csv", "--ranks", str(args.ranks), "--batch-size", str(args.batch_size), "--steps", str(args.steps),
               "--workloads", "teacher", "student", "--teacher-model", args.teacher_model, "--student-model", args.student_model]
    print(f"  swift-distill: log {log}", file=sys.stderr, flush=True)
    with open(log, "w") as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT)
    if code != 0:
        fail(f"swift-distill failed (exit {code}), see {log}")
    rates = {}
    for line in open(log):
        fields = line.strip().split(",")   # workload,ranks,threads,batch,samples_per_s,...
        if len(fields) == 8 and fields[0] in ROLES:
            rates[fields[0]] = float(fields[4])
    if set(rates) != set(ROLES):
        fail(f"could not parse swift-distill's CSV lines, see {log}")
    return {"samples_per_s": rates}


def cpu_description():
    spec = importlib.util.spec_from_file_location("keras_speed", os.path.join(ROOT, "scripts/keras-speed.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cpu_description()


def report(args, rounds, cpu):
    k0 = rounds[0]["keras"]["teacher"]
    lines = ["# Training steps: Keras 3 (TensorFlow CPU) against swift-distill", "",
             f"- models: teacher `{os.path.relpath(args.teacher_model, ROOT)}` ({rounds[0]['keras']['teacher']['parameters']:,} parameters), "
             f"student `{os.path.relpath(args.student_model, ROOT)}` ({rounds[0]['keras']['student']['parameters']:,}); input {k0['input']}",
             f"- synthetic data, batch {args.batch_size}, Adam; epochs of {args.steps} steps after a warm-up; {len(rounds)} round(s), alternating",
             f"- Keras {k0['keras']}, TensorFlow {k0['tensorflow']} (default threads): the best of {args.repeats} timed epochs per round "
             "(the epochs vary up to twofold within one process); "
             f"swift-distill `bench --ranks {args.ranks}`, one GEMM thread per rank",
             f"- CPU: {cpu}", "",
             "| model | round | Keras samples/s (its epochs) | Keras best | swift-distill samples/s | swift / Keras best |",
             "|---|---|---|---:|---:|---:|"]
    for role in ROLES:
        pairs = []
        for i, r in enumerate(rounds):
            epochs, swift = r["keras"][role]["samples_per_s"], r["swift"]["samples_per_s"][role]
            pairs.append((max(epochs), swift))
            lines.append(f"| {role} | {i + 1} | {', '.join(f'{e:,.0f}' for e in epochs)} | {max(epochs):,.0f} | {swift:,.0f} | {swift / max(epochs):.2f} |")
        keras, swift = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
        lines.append(f"| {role} | median | | {keras:,.0f} | {swift:,.0f} | {swift / keras:.2f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description="Training-step throughput, Keras 3 against swift-distill, synthetic data.")
    parser.add_argument("--teacher-model", default=os.path.join(GRAPH, "resnet50v2.json"))
    parser.add_argument("--student-model", default=os.path.join(GRAPH, "mobilenetv2.json"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="Keras's timed epochs per round (its best counts)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--distill", default=os.path.join(ROOT, ".build/release/distill"))
    args = parser.parse_args()
    for name in ["batch_size", "steps", "repeats", "rounds", "ranks"]:
        if getattr(args, name) < 1:
            fail(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for path in [args.teacher_model, args.student_model]:
        if not os.path.isfile(path):
            fail(f"model JSON not found: {path}")
    args.teacher_model, args.student_model = os.path.abspath(args.teacher_model), os.path.abspath(args.student_model)
    work = tempfile.mkdtemp(prefix="keras-step-speed-")
    rounds = []
    for i in range(args.rounds):
        print(f"round {i + 1} of {args.rounds}", file=sys.stderr, flush=True)
        measure = {"keras": lambda: {role: run_keras(args, getattr(args, f"{role}_model"), work, f"{role}-{i}") for role in ROLES},
                   "swift": lambda: run_swift(args, work, str(i))}
        order = ["keras", "swift"] if i % 2 == 0 else ["swift", "keras"]
        rounds.append({tool: measure[tool]() for tool in order})
    print(report(args, rounds, cpu_description()), end="")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "keras-child":
        keras_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    else:
        main()
