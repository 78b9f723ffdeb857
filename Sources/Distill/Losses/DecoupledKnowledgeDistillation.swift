import Foundation
import NN

/// DKD (Zhao et al., CVPR 2022, "Decoupled Knowledge Distillation"), as mdistiller computes it:
///
///     total = CE(z_s, y) + w(epoch) * T^2 * (alpha * TCKD + beta * NCKD), each term a mean over the batch
///     TCKD  = KL([q_t, 1 - q_t] || [p_t, 1 - p_t])        the target class against the rest
///     NCKD  = KL(q^ || p^)                                  over the non-target classes only
///
/// with `p = softmax(z_s / T)`, `q = softmax(z_t / T)`, `t` the label, `p^`/`q^` the softmax at T
/// over the classes other than `t` (mdistiller masks the target with -1000), and
/// `w = min(epoch / (warmup * epochs), 1)` (mdistiller: 20 of 240 epochs, epochs counted from 1).
/// `1 - p_t` and `p^` come from log-sum-exps over the non-target classes, so a confident student
/// (`p_t` rounding to 1) stays finite. Gradient per sample, scaled by 1 / N:
/// `softmax(z_s) - onehot(t) + w T (alpha (p_t - q_t) (onehot(t) - [j != t] p^) + beta [j != t] (p^ - q^))`.
/// With `standardize` (Sun et al., CVPR 2024), the DKD term sees each sample's logits z-scored first,
/// as `kd:standardize` (`DistillationLoss.standardize`), and its gradient goes back through the z-score;
/// the cross-entropy keeps the raw logits.
/// With MixUp (`LossBatch.mix`) the CE is the mixed labels'; the DKD term keeps the sample's own label as its target.
/// Reports `student_loss` (the CE) and `distillation_loss` (the weighted DKD term).
public final class DecoupledKnowledgeDistillation: DistillationObjective {
    public let metricNames = ["student_loss", "distillation_loss"]
    public let alpha: Float, beta: Float, temperature: Float, warmup: Float
    public let standardize: Bool
    private let crossEntropy = SparseCategoricalCrossentropy()
    // [rows, classes] each: the CE's gradient, the DKD term's, and with `standardize` the z-scored logits.
    private var studentGradient = FloatBuffer(count: 0), termGradient = FloatBuffer(count: 0)
    private var studentStandard = FloatBuffer(count: 0), teacherStandard = FloatBuffer(count: 0)

    public init(alpha: Float = 1, beta: Float = 8, temperature: Float = 4, warmup: Float = 20.0 / 240, standardize: Bool = false) {
        (self.alpha, self.beta, self.temperature, self.warmup, self.standardize) = (alpha, beta, temperature, warmup, standardize)
    }

    public func reserve(rows: Int, classes: Int) {
        guard studentGradient.count < rows * classes else { return }
        (studentGradient, termGradient) = (FloatBuffer(count: rows * classes), FloatBuffer(count: rows * classes))
        if standardize { (studentStandard, teacherStandard) = (FloatBuffer(count: rows * classes), FloatBuffer(count: rows * classes)) }
    }

    /// The warm-up weight of `epoch` (from 1) of `epochs`.
    public func weight(epoch: Int, epochs: Int) -> Double {
        warmup <= 0 ? 1 : min(Double(epoch) / (Double(warmup) * Double(epochs)), 1)
    }

    public func compute(_ batch: LossBatch, gradient: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Double>) {
        let (rows, classes) = (batch.rows, batch.classes)
        reserve(rows: rows, classes: classes)
        let scale = 1 / Double(batch.globalCount)
        sums[0] = crossEntropy(logits: batch.student, labels: batch.labels, mix: batch.mix, rows: rows, classes: classes,
                               gradient: studentGradient.pointer, scale: Float(scale))
        let w = weight(epoch: batch.epoch, epochs: batch.epochs)
        let (a, b, t) = (Double(alpha), Double(beta), Double(temperature))
        var (student, teacher) = (batch.student, batch.teacher)
        if standardize {
            DistillationLoss.standardize(batch.student, into: studentStandard.pointer, rows: rows, classes: classes)
            DistillationLoss.standardize(batch.teacher, into: teacherStandard.pointer, rows: rows, classes: classes)
            (student, teacher) = (UnsafePointer(studentStandard.pointer), UnsafePointer(teacherStandard.pointer))
        }
        var dkd = 0.0
        for row in 0..<rows {
            let s = student + row * classes, q = teacher + row * classes, g = termGradient.pointer + row * classes
            let target = Int(batch.labels[row])
            let student = Parts(s, target: target, classes: classes, temperature: t)
            let teacher = Parts(q, target: target, classes: classes, temperature: t)
            let (pt, qt) = (exp(student.logTarget), exp(teacher.logTarget))
            // TCKD: binary KL; a probability of exactly 0 contributes 0, as PyTorch's kl_div.
            var tckd = qt > 0 ? qt * (teacher.logTarget - student.logTarget) : 0
            let qRest = exp(teacher.logRest)
            if qRest > 0 { tckd += qRest * (teacher.logRest - student.logRest) }
            var nckd = 0.0
            for j in 0..<classes where j != target {
                let qj = exp(Double(q[j]) / t - teacher.restLSE)
                if qj > 0 { nckd += qj * ((Double(q[j]) / t - teacher.restLSE) - (Double(s[j]) / t - student.restLSE)) }
            }
            dkd += a * tckd + b * nckd
            let factor = w * t * scale   // d(w T^2 (...)) / dz = w T (...) after the 1/T of the softmax
            for j in 0..<classes {
                var d: Double
                if j == target {
                    d = a * (pt - qt)
                } else {
                    let (pj, qj) = (exp(Double(s[j]) / t - student.restLSE), exp(Double(q[j]) / t - teacher.restLSE))
                    d = -a * (pt - qt) * pj + b * (pj - qj)
                }
                g[j] = Float(factor * d)
            }
        }
        if standardize { DistillationLoss.backThroughStandardization(batch.student, gradient: termGradient.pointer, rows: rows, classes: classes) }
        for i in 0..<rows * classes { gradient[i] = studentGradient.pointer[i] + termGradient.pointer[i] }
        sums[1] = w * t * t * dkd
    }

    /// One row's log-probability of the target, of the rest, and the log-sum-exp of the non-target logits, at T.
    private struct Parts {
        let logTarget: Double, logRest: Double, restLSE: Double
        init(_ z: UnsafePointer<Float>, target: Int, classes: Int, temperature t: Double) {
            var top = -Double.infinity
            for j in 0..<classes where j != target { top = max(top, Double(z[j]) / t) }
            var rest = 0.0
            for j in 0..<classes where j != target { rest += exp(Double(z[j]) / t - top) }
            restLSE = top + log(rest)
            let zt = Double(z[target]) / t
            let all = max(zt, restLSE) + log(exp(zt - max(zt, restLSE)) + exp(restLSE - max(zt, restLSE)))
            (logTarget, logRest) = (zt - all, restLSE - all)
        }
    }
}

extension LossKind {
    /// DKD with its own alpha, beta and T (not the KD mix of `--alpha`, `--temperature`), and the warm-up as a fraction of the run.
    public static let dkd = LossKind(SpecificationSchema("dkd", help: "Zhao et al.'s decoupled KD as mdistiller: CE + w * T^2 * (alpha * TCKD + beta * NCKD), w rising over the warm-up", [
        .init("alpha", .number(default: 1, range: .init(0, 100)), help: "weight of the target-class part"),
        .init("beta", .number(default: 8, range: .init(0, 100)), help: "weight of the non-target part"),
        .init("T", .number(default: 4, range: .init(0, 1000, openLower: true)), help: "temperature"),
        .init("warmup", .number(default: 20.0 / 240, range: .init(0, 1)), help: "fraction of the run over which w rises to 1"),
        .init("standardize", .toggle, help: "z-score each sample's logits before the DKD term, as Sun et al. 2024"),
    ])) { p, _, _ in
        DecoupledKnowledgeDistillation(alpha: p.number("alpha"), beta: p.number("beta"), temperature: p.number("T"), warmup: p.number("warmup"),
                                       standardize: p.isOn("standardize"))
    }
}
