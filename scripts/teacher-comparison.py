#!/usr/bin/env python3
"""The teacher comparison of docs/teacher-vs-keras.md: swift-distill against Keras (TensorFlow backend).

  teacher-comparison.py add-swift RUNS.jsonl SEED METRICS.json
      Appends one swift-distill run (from `distill train-teacher --seed SEED --metrics-json METRICS.json`)
      to RUNS.jsonl in the format keras-crosscheck.py teacher writes, with this machine's CPU.
  teacher-comparison.py add-keras RUNS.jsonl LINES.jsonl
      Appends the Keras runs of LINES.jsonl (written by keras-crosscheck.py teacher or replay-teacher) not
      yet in RUNS.jsonl, with this machine's CPU.
  teacher-comparison.py report RUNS.jsonl
      Per producer: runs, mean and standard deviation of the test accuracy and of each epoch's training
      loss; Welch's t and degrees of freedom for each, and the 95% interval of the accuracy difference.
  teacher-comparison.py paired RUNS.jsonl REPLAYS.jsonl
      Each Keras replay (keras-crosscheck.py replay-teacher: swift-distill's initial weights and epoch
      orders) against the swift-distill run of the same seed: per-seed figures, the mean paired
      difference of test accuracy and of each epoch's loss with its paired t, and the spread the
      arithmetic alone leaves (sd of paired differences / sqrt 2) against the spread over seeds.

Standard library only.
"""
import json
import math
import sys


def cpu():
    fields = {}
    for line in open("/proc/cpuinfo"):
        if ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
            fields.setdefault(key, value)
    return f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"


def mean_sd(values):
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return m, sd


def welch(a, b):
    (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
    va, vb = sa * sa / len(a), sb * sb / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1)) if va + vb > 0 else float("inf")
    return (ma - mb) / se if se > 1e-12 else float("nan"), df, ma - mb, se  # equal constants: no t


def t_quantile_975(df):
    """Two-sided 95% critical value of Student's t, by bisection on its CDF (Simpson's rule on the density)."""
    def cdf(x):
        steps = 2000
        h = x / steps
        density = lambda t: (1 + t * t / df) ** (-(df + 1) / 2)
        area = density(0) + density(x) + sum((4 if i % 2 else 2) * density(i * h) for i in range(1, steps))
        norm = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
        return 0.5 + norm * area * h / 3
    low, high = 0.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < 0.975 else (low, mid)
    return (low + high) / 2


def read_runs(path):
    """The JSON lines of a runs file, blank lines skipped."""
    return [json.loads(line) for line in open(path) if line.strip()]


def report(path):
    runs = read_runs(path)
    groups = {}
    for run in runs:
        groups.setdefault(run["producer"], []).append(run)
    for producer, members in sorted(groups.items()):
        accuracies = [100 * r["test_accuracy"] for r in members]
        m, sd = mean_sd(accuracies)
        print(f"{producer}: {len(members)} runs, seeds {sorted(r['seed'] for r in members)}, test accuracy {m:.2f} ± {sd:.2f}% "
              f"(min {min(accuracies):.2f}, max {max(accuracies):.2f}); CPUs {sorted(set(r.get('cpu', '?') for r in members))}")
        losses = list(zip(*[r["epoch_losses"] for r in members]))
        print("  training loss per epoch: " + ", ".join(f"{mean_sd(e)[0]:.4f} ± {mean_sd(e)[1]:.4f}" for e in losses))
    if set(groups) >= {"swift-distill", "keras"} and min(len(groups["swift-distill"]), len(groups["keras"])) > 1:
        ours, theirs = groups["swift-distill"], groups["keras"]
        t, df, difference, se = welch([100 * r["test_accuracy"] for r in ours], [100 * r["test_accuracy"] for r in theirs])
        half = t_quantile_975(df) * se
        print(f"test accuracy, swift-distill - keras: {difference:+.3f} points, Welch t {t:.2f}, df {df:.1f}, "
              f"95% interval [{difference - half:+.3f}, {difference + half:+.3f}]")
        for epoch in range(min(len(ours[0]["epoch_losses"]), len(theirs[0]["epoch_losses"]))):
            t, df, difference, _ = welch([r["epoch_losses"][epoch] for r in ours], [r["epoch_losses"][epoch] for r in theirs])
            print(f"  epoch {epoch + 1} training loss, swift-distill - keras: {difference:+.4f}, Welch t {t:.2f}, df {df:.1f}")


def paired(runs_path, replays_path):
    ours = {r["seed"]: r for r in read_runs(runs_path) if r["producer"] == "swift-distill"}
    replays = [r for r in read_runs(replays_path) if r["seed"] in ours]
    if len(replays) < 2:
        sys.exit(f"{replays_path}: {len(replays)} replays with a swift-distill run of the same seed, expected at least 2")
    replays.sort(key=lambda r: r["seed"])
    for r in replays:
        o = ours[r["seed"]]
        print(f"seed {r['seed']}: test accuracy swift-distill {100 * o['test_accuracy']:.2f}%, Keras replay "
              f"{100 * r['test_accuracy']:.2f}%; epoch losses {o['epoch_losses']} vs {r['epoch_losses']}")

    def line(name, figure, digits):
        """figure(run) -> the number compared; the spread over seeds is that of every swift-distill run."""
        differences = [figure(ours[r["seed"]]) - figure(r) for r in replays]
        m, sd = mean_sd(differences)
        t = m / (sd / math.sqrt(len(differences))) if sd > 1e-12 else float("nan")
        print(f"{name}, swift-distill - Keras replay: mean {m:+.{digits}f}, sd {sd:.{digits}f}, paired t {t:.2f}; "
              f"spread from arithmetic alone {sd / math.sqrt(2):.{digits}f} against "
              f"{mean_sd([figure(o) for o in ours.values()])[1]:.{digits}f} over seeds")
    line("test accuracy (points)", lambda run: 100 * run["test_accuracy"], 3)
    for epoch in range(len(replays[0]["epoch_losses"])):
        line(f"epoch {epoch + 1} loss", lambda run: run["epoch_losses"][epoch], 4)


def recorded(path):
    """(producer, seed) of the runs already in RUNS.jsonl: adding a run twice would count it twice."""
    try:
        return {(r["producer"], r["seed"]) for r in read_runs(path)}
    except FileNotFoundError:
        return set()


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "add-swift":
        metrics = json.load(open(sys.argv[4]))
        loss = metrics["metrics"].index("loss")
        line = {"producer": "swift-distill", "seed": int(sys.argv[3]), "epoch_losses": [round(e[loss], 5) for e in metrics["epochs"]],
                "test_accuracy": metrics["test"]["accuracy"], "cpu": cpu()}
        if ("swift-distill", line["seed"]) in recorded(sys.argv[2]):
            sys.exit(f"{sys.argv[2]}: swift-distill seed {line['seed']} is already there")
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps(line) + "\n")
    elif len(sys.argv) == 4 and sys.argv[1] == "add-keras":
        known = recorded(sys.argv[2])
        with open(sys.argv[2], "a") as f:
            for line in read_runs(sys.argv[3]):
                if (line["producer"], line["seed"]) in known:
                    continue
                known.add((line["producer"], line["seed"]))
                line.setdefault("cpu", cpu())
                f.write(json.dumps(line) + "\n")
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        report(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "paired":
        paired(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
