import Distill
import Foundation
import NN
import XCTest

/// `kd:standardize` (Sun et al., CVPR 2024) against the authors' code's definition written out in
/// Double: each sample's logits z-scored with the unbiased std (PyTorch's default) plus 1e-7, then
/// KD at T with T^2, the cross-entropy on the raw logits; its gradient by central finite
/// differences, and the loss unchanged under `a * z + b` (a > 0) of either model's logits.
final class LogitStandardizationTests: XCTestCase {
    private func zscore(_ z: [Double]) -> [Double] {
        let m = z.reduce(0, +) / Double(z.count)
        let s = (z.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(z.count - 1)).squareRoot()
        return z.map { ($0 - m) / (1e-7 + s) }
    }

    private func softmax(_ z: [Double], _ t: Double) -> [Double] {
        let top = z.max()! / t
        let e = z.map { exp($0 / t - top) }
        return e.map { $0 / e.reduce(0, +) }
    }

    /// The mean total of `alpha * CE + (1 - alpha) * T^2 * KL(softmax(zs(teacher) / T) || softmax(zs(student) / T))`.
    private func reference(_ student: [[Double]], _ teacher: [[Double]], _ labels: [Int32], alpha: Double, t: Double) -> Double {
        zip(zip(student, teacher), labels).reduce(0.0) { sum, item in
            let (s, q) = item.0
            let ce = -log(softmax(s, 1)[Int(item.1)])
            let (ps, pt) = (softmax(zscore(s), t), softmax(zscore(q), t))
            let kl = zip(pt, ps).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) }
            return sum + alpha * ce + (1 - alpha) * t * t * kl
        } / Double(student.count)
    }

    private func evaluate(_ student: [[Double]], _ teacher: [[Double]], _ labels: [Int32], alpha: Float, t: Float) -> (total: Double, gradient: [Float]) {
        let loss = try! XCTUnwrap(try LossRegistry.make("kd:standardize", alpha: alpha, temperature: t) as? DistillationLoss)
        XCTAssertTrue(loss.standardize)
        let rows = student.count, classes = student[0].count
        loss.reserve(rows: rows, classes: classes)
        var gradient = [Float](repeating: 0, count: rows * classes)
        let (s, q) = (student.flatMap { $0.map(Float.init) }, teacher.flatMap { $0.map(Float.init) })
        let sums = loss(studentLogits: s, teacherLogits: q, labels: labels, rows: rows, classes: classes, gradient: &gradient,
                        scale: 1 / Float(rows))
        return (sums.total / Double(rows), gradient)
    }

    private let labels: [Int32] = [3, 0, 2]
    private func logits(seed: UInt64, spread: Double) -> [[Double]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<3).map { _ in (0..<6).map { _ in Double(Float((Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * spread)) } }
    }

    func testLossAndGradientFollowTheAuthorsDefinition() {
        for (alpha, t) in [(Float(0.1), Float(4)), (0.5, 2), (0, 1)] {
            let (student, teacher) = (logits(seed: 3, spread: 4), logits(seed: 4, spread: 9))
            let (total, gradient) = evaluate(student, teacher, labels, alpha: alpha, t: t)
            let expected = reference(student, teacher, labels, alpha: Double(alpha), t: Double(t))
            XCTAssertEqual(total, expected, accuracy: 1e-5 * expected)
            let moved = assertGradientMatchesCentralDifferences(gradient, at: student, "alpha \(alpha), T \(t),") {
                reference($0, teacher, labels, alpha: Double(alpha), t: Double(t))
            }
            XCTAssertGreaterThan(moved, 0.01)
        }
    }

    /// With alpha 0 (the KL alone) the loss ignores each logit vector's scale and shift.
    func testAffineMapsOfEitherLogitsLeaveTheLossAlone() {
        let (student, teacher) = (logits(seed: 7, spread: 3), logits(seed: 8, spread: 3))
        let base = evaluate(student, teacher, labels, alpha: 0, t: 4).total
        for (a, b) in [(2.0, 5.0), (0.25, -3.0)] {
            let movedStudent = evaluate(student.map { $0.map { a * $0 + b } }, teacher, labels, alpha: 0, t: 4).total
            let movedTeacher = evaluate(student, teacher.map { $0.map { a * $0 + b } }, labels, alpha: 0, t: 4).total
            XCTAssertEqual(movedStudent, base, accuracy: 1e-5 * base)
            XCTAssertEqual(movedTeacher, base, accuracy: 1e-5 * base)
        }
        let plain = try! XCTUnwrap(try LossRegistry.make("kd", alpha: 0, temperature: 4) as? DistillationLoss)
        XCTAssertFalse(plain.standardize, "kd alone is Hinton's, unchanged")
    }
}
