import Foundation
import NN

// Double-precision reference implementations of the losses, written from the formulas in
// DESIGN.md ("Numerical semantics"), independent of the library code; plus Double finite
// differences of them. Rows are `[[Double]]`, one per sample.

enum Reference {
    static let epsilon = 1e-7

    static func softmax(_ z: [Double], temperature: Double = 1) -> [Double] {
        let m = z.max()!
        let e = z.map { exp(($0 - m) / temperature) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// `logsumexp(z) - z[label]`.
    static func crossEntropy(_ z: [Double], label: Int) -> Double {
        let m = z.max()!
        return m + log(z.map { exp($0 - m) }.reduce(0, +)) - z[label]
    }

    /// Keras's KLDivergence of two probability rows: `sum t * log(t / s)`, both clipped to
    /// `[1e-7, 1]` when `clip` (the unclipped form is only for showing the clip matters).
    static func kl(teacher t: [Double], student s: [Double], clip: Bool = true) -> Double {
        zip(t, s).reduce(0) { total, pair in
            let tc = clip ? min(max(pair.0, epsilon), 1) : pair.0
            let sc = clip ? min(max(pair.1, epsilon), 1) : pair.1
            return total + tc * log(tc / sc)
        }
    }

    /// KL of softened softmaxes, as a function of the student logits.
    static func kl(teacherLogits: [Double], studentLogits: [Double], temperature: Double, clip: Bool = true) -> Double {
        kl(teacher: softmax(teacherLogits, temperature: temperature),
           student: softmax(studentLogits, temperature: temperature), clip: clip)
    }

    /// The distiller's per-sample total: `alpha * CE + (1 - alpha) * T^2 * KL`.
    static func distillation(student z: [Double], teacher: [Double], label: Int, alpha: Double, temperature: Double)
        -> (student: Double, distillation: Double, total: Double)
    {
        let ce = crossEntropy(z, label: label)
        let d = temperature * temperature * kl(teacherLogits: teacher, studentLogits: z, temperature: temperature)
        return (ce, d, alpha * ce + (1 - alpha) * d)
    }

    /// Central differences of `f` at `x`, step `h`, in Double.
    static func gradient(at x: [Double], step h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
        (0..<x.count).map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }
}

/// Rows of Float logits, flattened, plus the same rows in Double.
struct LogitRows {
    let rows: [[Float]]
    var flat: [Float] { rows.flatMap { $0 } }
    var double: [[Double]] { rows.map { $0.map(Double.init) } }
    var count: Int { rows.count }
    var classes: Int { rows[0].count }

    init(_ rows: [[Float]]) { self.rows = rows }

    init(rows: Int, classes: Int, range: Float, rng: inout SeededGenerator) {
        self.rows = (0..<rows).map { _ in rng.floats(classes, in: -range, range) }
    }
}
