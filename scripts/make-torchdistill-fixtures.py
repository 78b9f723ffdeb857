#!/usr/bin/env python3
"""Writes Tests/Fixtures/torchdistill/losses.json: each logit loss's mean total over one batch and
its gradient with respect to the student's logits, by torch autograd in float64, on seeded logits
(7 samples, 10 classes), for Tests/DistillTests/TorchdistillReferenceTests.swift.

Usage (a venv with torch and torchdistill from PyPI; torchvision pinned to 0.28.0, torch 2.13's, or
pip replaces torch 2.13.0+cpu with the newest torch and its CUDA wheels):
    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install "torch==2.13.0+cpu" "torchvision==0.28.0" "torchdistill==1.1.5"
    /tmp/torchenv/bin/python scripts/make-torchdistill-fixtures.py

Where each reference comes from, and what was adjusted to compare like with like:
- kd: torchdistill's KDLoss (alpha * CE + (1 - alpha) * T^2 * KLDivLoss 'batchmean', CE mean), ours
  exactly. Its `distillation_loss` part is KDLoss with no targets (the bare KL, no T^2), times T^2 here.
  (KDLoss returns the bare KL for alpha 0 too, so no case uses alpha 0.) Ours clips both
  probabilities to [1e-7, 1] as Keras does: only at T 1 is a teacher probability below 1e-7 (8.7e-9),
  and the script reports that the clip moves T^2 KL there by 6e-8 relative.
- kd:standardize: torchdistill's LogitStdKDLoss (z-score with PyTorch's unbiased std and eps 1e-7),
  the same equation as KDLoss after it.
- dkd: torchdistill 1.1.5 has no DKD. The reference is the equation as mdistiller states it,
  written here in torch: CE + w * T^2 * (alpha * TCKD + beta * NCKD), each KL summed and divided
  by the batch, NCKD with the target logit pushed down by 1000 after the 1/T, w = min(epoch / 20, 1)
  (mdistiller's WARMUP of 20 epochs, epochs from 1; ours: warm-up fraction 20/240 of 240 epochs).
- dkd:standardize: the same DKD on logits z-scored by torchdistill's LogitStdKDLoss.standardize (as
  the logit-standardisation authors' DKD does), the CE on the raw logits.
- dist: torchdistill's DISTLoss has no CE; the CE (mean) is added here, as ours has one of
  weight 1. Its defaults (beta 1, gamma 1, tau 1) are one case, ours (2, 2, 4) another. Its Pearson
  correlation is torch's cosine_similarity of the centred vectors, u.v / (max(|u|, 1e-8) max(|v|, 1e-8)),
  where ours (the DIST authors' code) divides by |u||v| + 1e-8: the script reports how much that
  moves each value; it is below 3e-8 relative here.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchdistill
from torchdistill.losses.mid_level import DISTLoss, KDLoss, LogitStdKDLoss

ROWS, CLASSES, SEED = 7, 10, 20240
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "torchdistill", "losses.json")


def io(logits):
    """torchdistill's io_dict for a model whose output is `logits`."""
    return {".": {"output": logits}}


def kd(alpha, t):
    loss = KDLoss(".", "output", ".", "output", temperature=t, alpha=alpha)
    def parts(s, q, y):
        distillation = t * t * loss(io(s), io(q))   # no targets: the bare KL, batchmean
        shift = clip_shift(s.detach(), q, t)
        print(f"  KD: the [1e-7, 1] clip moves T^2 KL by {shift:.3g} ({shift / distillation.item():.3g} relative)")
        return F.cross_entropy(s, y), distillation, loss(io(s), io(q), y)
    return parts


def clip_shift(s, q, t):
    """How far clipping both probabilities to [1e-7, 1] (ours, Keras's KLDivergence) moves T^2 KL."""
    p, r = F.softmax(s / t, dim=1), F.softmax(q / t, dim=1)
    pc, rc = p.clamp(1e-7, 1), r.clamp(1e-7, 1)
    return t * t * ((rc * (rc / pc).log()).sum(1) - (r * (r / p).log()).sum(1)).mean().item()


def kd_standardized(alpha, t):
    loss = LogitStdKDLoss(".", "output", ".", "output", temperature=t, alpha=alpha)
    def parts(s, q, y):
        distillation = t * t * loss(io(s), io(q))
        return F.cross_entropy(s, y), distillation, loss(io(s), io(q), y)
    return parts


def dkd(alpha, beta, t, w, standardize=False):
    zscore = LogitStdKDLoss(".", "output", ".", "output", temperature=t, alpha=0).standardize   # (alpha None fails in its __init__)
    def parts(s, q, y):
        ce = F.cross_entropy(s, y)
        zs, zq = (zscore(s), zscore(q)) if standardize else (s, q)
        target = F.one_hot(y, CLASSES).to(s.dtype)
        ps, pq = F.softmax(zs / t, dim=1), F.softmax(zq / t, dim=1)
        # TCKD: KL of [p_target, p_rest] (the rest as the sum of the non-target probabilities).
        bs = torch.stack([(ps * target).sum(1), (ps * (1 - target)).sum(1)], dim=1)
        bq = torch.stack([(pq * target).sum(1), (pq * (1 - target)).sum(1)], dim=1)
        tckd = F.kl_div(bs.log(), bq, reduction="sum") / len(y)
        # NCKD: KL over the non-target classes, the target masked by -1000 after the 1/T.
        ls = F.log_softmax(zs / t - 1000 * target, dim=1)
        lq = F.softmax(zq / t - 1000 * target, dim=1)
        nckd = F.kl_div(ls, lq, reduction="sum") / len(y)
        distillation = w * t * t * (alpha * tckd + beta * nckd)
        return ce, distillation, ce + distillation
    return parts


def dist(beta, gamma, tau):
    loss = DISTLoss(".", "output", ".", "output", beta=beta, gamma=gamma, tau=tau)
    def parts(s, q, y):
        ce, distillation = F.cross_entropy(s, y), loss(io(s), io(q))
        shift = authors_eps_shift(s.detach(), q, beta, gamma, tau)
        print(f"  DIST: |u||v| + 1e-8 moves it by {shift:.3g} ({shift / distillation.item():.3g} relative)")
        return ce, distillation, ce + distillation
    return parts


def authors_eps_shift(s, q, beta, gamma, tau):
    """How far |u||v| + 1e-8 (ours, the DIST authors') moves the DIST value from torchdistill's."""
    p, r = F.softmax(s / tau, dim=1), F.softmax(q / tau, dim=1)
    def term(a, b):
        u, v = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
        dot, norms = (u * v).sum(1), u.norm(dim=1) * v.norm(dim=1)
        return (dot / norms - dot / (norms + 1e-8)).mean()   # 1 - mean pearson: ours minus torchdistill's
    return float(tau * tau * (beta * term(p, r) + gamma * term(p.T, r.T)))


# (name, our --loss text, --alpha, --temperature, epoch, epochs, the reference's parts)
CASES = [
    ("kd alpha 0.1 T 10", "kd", 0.1, 10.0, 1, 1, kd(0.1, 10.0)),
    ("kd alpha 0.5 T 3", "kd", 0.5, 3.0, 1, 1, kd(0.5, 3.0)),
    ("kd alpha 0.9 T 1", "kd", 0.9, 1.0, 1, 1, kd(0.9, 1.0)),
    ("kd standardize alpha 0.1 T 4", "kd:standardize", 0.1, 4.0, 1, 1, kd_standardized(0.1, 4.0)),
    ("kd standardize alpha 0.5 T 2", "kd:standardize", 0.5, 2.0, 1, 1, kd_standardized(0.5, 2.0)),
    ("dkd alpha 1 beta 8 T 4 epoch 5 of 240 (w 0.25)", "dkd", 0.1, 10.0, 5, 240, dkd(1.0, 8.0, 4.0, 0.25)),
    ("dkd alpha 1 beta 8 T 4 epoch 20 of 240 (w 1)", "dkd", 0.1, 10.0, 20, 240, dkd(1.0, 8.0, 4.0, 1.0)),
    ("dkd alpha 2 beta 0.5 T 1 epoch 3 of 12, warm-up 0.5 (w 0.5)", "dkd:alpha=2:beta=0.5:T=1:warmup=0.5", 0.1, 10.0, 3, 12,
     dkd(2.0, 0.5, 1.0, 0.5)),
    ("dkd standardize alpha 1 beta 8 T 2 epoch 240 of 240 (w 1)", "dkd:T=2:standardize", 0.1, 10.0, 240, 240,
     dkd(1.0, 8.0, 2.0, 1.0, standardize=True)),
    ("dist torchdistill defaults beta 1 gamma 1 tau 1", "dist:beta=1:gamma=1:T=1", 0.1, 10.0, 1, 1, dist(1.0, 1.0, 1.0)),
    ("dist our defaults beta 2 gamma 2 tau 4", "dist", 0.1, 10.0, 1, 1, dist(2.0, 2.0, 4.0)),
]


def main():
    rng = np.random.default_rng(SEED)
    # float32 logits (the Swift losses read float32), carried to torch exactly in float64.
    student = (rng.standard_normal((ROWS, CLASSES)) * 2.5).astype(np.float32)
    teacher = (rng.standard_normal((ROWS, CLASSES)) * 4.0).astype(np.float32)
    labels = rng.integers(0, CLASSES, ROWS)
    q, y = torch.tensor(teacher, dtype=torch.float64), torch.tensor(labels, dtype=torch.int64)
    cases = []
    for name, loss, alpha, temperature, epoch, epochs, reference in CASES:
        s = torch.tensor(student, dtype=torch.float64, requires_grad=True)
        ce, distillation, total = reference(s, q, y)
        total.backward()
        cases.append({"name": name, "loss": loss, "alpha": alpha, "temperature": temperature, "epoch": epoch, "epochs": epochs,
                      "student_loss": ce.item(), "distillation_loss": distillation.item(), "total": total.item(),
                      "gradient": s.grad.reshape(-1).tolist()})
        print(f"{name}: {total.item():.9g}")
    fixture = {"torch": torch.__version__, "torchdistill": torchdistill.__version__, "rows": ROWS, "classes": CLASSES,
               "student": [float(v) for v in student.reshape(-1)], "teacher": [float(v) for v in teacher.reshape(-1)],
               "labels": [int(v) for v in labels], "cases": cases}
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    with open(PATH, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
