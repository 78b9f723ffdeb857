#!/usr/bin/env python3
"""Which keras.applications models swift-distill loads and trains: every constructor in keras.applications, built
with weights=None, 10 classes and no final activation at 32 x 32 x 3 (or 75 x 75 x 3, the smallest some accept),
exported with to_json(), then given to `distill summary` (load and build) and to `distill bench --workloads teacher`
(training steps on synthetic images: forward, backward, Adam; the model stands as the student too, which bench
needs of the same input, and is not trained as one). Prints a Markdown table, one row per model.

Needs: a Keras venv (python3 -m venv /work/venv-keras && /work/venv-keras/bin/pip install tensorflow-cpu keras) and
a release build (swift build -c release).
Run:   /work/venv-keras/bin/python scripts/keras-applications-check.py [--only NAME ...] [--no-train]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DISTILL = os.path.join(ROOT, ".build", "release", "distill")


def build(constructor):
    """The model at the smallest of 32 and 75 pixels it accepts, and that size; (None, error) if neither."""
    error = None
    for size in (32, 75):
        try:
            keras.utils.clear_session()
            return constructor(weights=None, input_shape=(size, size, 3), classes=10, classifier_activation=None), size
        except ValueError as e:
            error = str(e).splitlines()[0]
    return None, error


def run(arguments, timeout):
    """(exit code, output, last line of output)."""
    try:
        done = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", f"no result within {timeout} s"
    output = done.stdout + done.stderr
    lines = output.strip().splitlines()
    return done.returncode, output, (lines[-1] if lines else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="constructor names (default: all)")
    parser.add_argument("--no-train", action="store_true", help="load and build only")
    parser.add_argument("--batch-size", type=int, default=8, help="bench's global batch (default 8)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per distill command (default 900)")
    args = parser.parse_args()
    if not os.path.exists(DISTILL):
        sys.exit(f"keras-applications-check: {DISTILL} not found; build first: swift build -c release")
    known = sorted(n for n in dir(keras.applications) if n[0].isupper() and callable(getattr(keras.applications, n)))
    unknown = [n for n in args.only or [] if n not in known]
    if unknown:
        sys.exit(f"keras-applications-check: --only {', '.join(unknown)}: not in keras.applications; expected one of {', '.join(known)}")
    names = args.only or known
    print(f"keras {keras.__version__}; distill bench --workloads teacher --batch-size {args.batch_size} --steps 2 (after 3 warm-up steps)\n")
    print("| model | input | parameters | loads (`distill summary`) | trains (`distill bench`), samples/s |")
    print("|---|---|---:|---|---:|")
    failures = 0
    with tempfile.TemporaryDirectory() as directory:
        for name in names:
            model, size = build(getattr(keras.applications, name))
            if model is None:
                print(f"| {name} | none | | Keras refused: {size} | |")
                failures += 1
                continue
            path = os.path.join(directory, f"{name}.json")
            with open(path, "w") as f:
                f.write(model.to_json())
            code, _, last = run([DISTILL, "summary", path], args.timeout)
            loads = "yes" if code == 0 else f"no: {last}"
            trains = ""
            if code == 0 and not args.no_train:
                code, output, last = run([DISTILL, "bench", "--workloads", "teacher", "--teacher-model", path, "--student-model", path,
                                          "--batch-size", str(args.batch_size), "--steps", "2", "--plain"], args.timeout)
                rate = re.search(r"^\| teacher \| ([0-9.]+) \|", output, re.M)
                trains = f"no: {last}" if code != 0 or not rate else rate.group(1)
            if loads != "yes" or trains.startswith("no"):
                failures += 1
            print(f"| {name} | {size} x {size} x 3 | {model.count_params():,} | {loads} | {trains} |", flush=True)
    print(f"\n{len(names) - failures} of {len(names)} load" + ("" if args.no_train else " and train"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
