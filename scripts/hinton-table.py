#!/usr/bin/env python3
"""The table of scripts/hinton-mnist.sh: test errors of the teacher and of each seed's scratch and
distilled student, their means and standard deviations, the paired difference with its t, and the
share of the scratch-to-teacher gap the distilled students close, beside Hinton et al.'s 67 / 146 / 74.

Input: accuracies.tsv, lines of `kind<TAB>seed<TAB>evaluate's line` ("... test accuracy 98.76%, loss
0.0412 on 10000 samples"), kind teacher, scratch or distilled. Standard library only.
Usage: python3 scripts/hinton-table.py OUT/accuracies.tsv
"""
import math
import re
import sys

LINE = re.compile(r"test accuracy ([0-9.]+)%, loss [0-9.naif]+ on ([0-9]+) samples")


def errors(line):
    """Test errors from evaluate's line: the accuracy is printed to 0.01%, exact for up to 10,000 samples."""
    match = LINE.search(line)
    if not match:
        sys.exit(f"hinton-table: not an evaluate line: {line!r}")
    accuracy, count = float(match.group(1)), int(match.group(2))
    return round((100 - accuracy) / 100 * count), count


def mean_sd(values):
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else float("nan")
    return mean, sd


def main():
    teacher, runs, count = None, {}, None
    with open(sys.argv[1]) as f:
        for raw in f:
            kind, seed, line = raw.rstrip("\n").split("\t", 2)
            e, n = errors(line)
            if count not in (None, n):
                sys.exit(f"hinton-table: models evaluated on {count} and {n} samples")
            count = n
            if kind == "teacher":
                teacher = e
            elif kind in ("scratch", "distilled"):
                runs.setdefault(seed, {})[kind] = e
            else:
                sys.exit(f"hinton-table: unknown kind {kind!r}")
    seeds = [s for s in runs if len(runs[s]) == 2]
    if teacher is None or not seeds:
        sys.exit("hinton-table: needs the teacher and at least one seed with both students")
    scratch = [runs[s]["scratch"] for s in seeds]
    distilled = [runs[s]["distilled"] for s in seeds]
    gains = [a - b for a, b in zip(scratch, distilled)]   # errors saved by distillation, per seed
    print(f"Test errors on {count} MNIST test images (lower is better).\n")
    print("| seed | scratch student | distilled student | errors saved |")
    print("|---|---:|---:|---:|")
    for s, a, b, g in zip(seeds, scratch, distilled, gains):
        print(f"| {s} | {a} | {b} | {g} |")
    (sm, ss), (dm, ds), (gm, gs) = mean_sd(scratch), mean_sd(distilled), mean_sd(gains)
    t = gm / (gs / math.sqrt(len(gains))) if len(gains) > 1 and gs > 0 else float("nan")
    print(f"| mean (sd) | {sm:.1f} ({ss:.1f}) | {dm:.1f} ({ds:.1f}) | {gm:.1f} ({gs:.1f}), paired t {t:.2f} |")
    gap = sm - teacher
    closed = f"{100 * gm / gap:.0f}%" if gap > 0 else "n/a (the teacher is not better)"
    print(f"\n| model | this run | Hinton et al. 2015 |")
    print("|---|---:|---:|")
    print(f"| teacher (2 x 1200, dropout, max-norm, jitter) | {teacher} | 67 |")
    print(f"| scratch student (2 x 800), mean | {sm:.1f} | 146 |")
    print(f"| distilled student (2 x 800, T 20), mean | {dm:.1f} | 74 |")
    print(f"\nThe distilled students close {closed} of the gap between their scratch twins and the teacher "
          f"(paper: 72 of 79 errors, 91%); paired t {t:.2f} over {len(gains)} seeds.")


if __name__ == "__main__":
    main()
