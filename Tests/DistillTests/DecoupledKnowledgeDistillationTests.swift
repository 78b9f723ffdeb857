import Distill
import Foundation
import NN
import XCTest

/// DKD against the paper's definitions written out naively in Double (full softmaxes, then the
/// binary and the renormalised non-target distributions), its gradient by central finite
/// differences, the identity KL(q || p) = TCKD + (1 - q_t) NCKD per sample, and the warm-up.
final class DecoupledKnowledgeDistillationTests: XCTestCase {
    private func softmax(_ z: [Double], _ t: Double) -> [Double] {
        let top = z.max()! / t
        let e = z.map { exp($0 / t - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// (TCKD, NCKD, CE) of one sample, from the definitions.
    private func reference(_ s: [Double], _ q: [Double], target: Int, t: Double) -> (tckd: Double, nckd: Double, ce: Double) {
        let (ps, pt) = (softmax(s, t), softmax(q, t))
        let tckd = pt[target] * log(pt[target] / ps[target]) + (1 - pt[target]) * log((1 - pt[target]) / (1 - ps[target]))
        var nckd = 0.0
        for j in s.indices where j != target {
            let (a, b) = (pt[j] / (1 - pt[target]), ps[j] / (1 - ps[target]))
            nckd += a * log(a / b)
        }
        return (tckd, nckd, -log(softmax(s, 1)[target]))
    }

    private func total(_ rows: [[Double]], _ teacher: [[Double]], _ labels: [Int32], loss: DecoupledKnowledgeDistillation, w: Double) -> Double {
        let (a, b, t) = (Double(loss.alpha), Double(loss.beta), Double(loss.temperature))
        return zip(zip(rows, teacher), labels).reduce(0.0) { sum, item in
            let r = reference(item.0.0, item.0.1, target: Int(item.1), t: t)
            return sum + r.ce + w * t * t * (a * r.tckd + b * r.nckd)
        } / Double(rows.count)
    }

    private let labels: [Int32] = [2, 0, 4, 1]
    private func logits(seed: UInt64, spread: Double) -> [[Double]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<4).map { _ in (0..<5).map { _ in (Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * spread } }
    }

    func testSumsAndGradientFollowTheDefinitions() throws {
        for (alpha, beta, temperature, epoch) in [(Float(1), Float(8), Float(4), 2), (0.5, 2, 1, 1), (2, 0.5, 10, 3)] {
            let loss = DecoupledKnowledgeDistillation(alpha: alpha, beta: beta, temperature: temperature, warmup: 0.5)
            let (student, teacher) = (logits(seed: 1, spread: 3), logits(seed: 2, spread: 6))
            let w = loss.weight(epoch: epoch, epochs: 4)
            XCTAssertEqual(w, min(Double(epoch) / 2, 1))
            let (s, q) = (student.flatMap { $0.map(Float.init) }, teacher.flatMap { $0.map(Float.init) })
            var gradient = [Float](repeating: 0, count: 20), sums = [0.0, 0.0]
            loss.reserve(rows: 4, classes: 5)
            s.withUnsafeBufferPointer { sp in q.withUnsafeBufferPointer { qp in labels.withUnsafeBufferPointer { lp in
                sums.withUnsafeMutableBufferPointer { out in
                    loss.compute(LossBatch(student: sp.baseAddress!, teacher: qp.baseAddress!, labels: lp.baseAddress!, rows: 4, classes: 5,
                                           globalCount: 4, epoch: epoch, epochs: 4), gradient: &gradient, sums: out)
                }
            } } }
            // The float32 logits, as the loss saw them.
            let (studentF, teacherF) = (student.map { $0.map { Double(Float($0)) } }, teacher.map { $0.map { Double(Float($0)) } })
            let expected = total(studentF, teacherF, labels, loss: loss, w: w)
            XCTAssertEqual((sums[0] + sums[1]) / 4, expected, accuracy: 1e-5 * abs(expected), "the mean total")
            let ce = zip(studentF, labels).reduce(0.0) { $0 - log(softmax($1.0, 1)[Int($1.1)]) }
            XCTAssertEqual(sums[0], ce, accuracy: 1e-5 * ce, "student_loss is the cross-entropy sum")
            let moved = assertGradientMatchesCentralDifferences(gradient, at: studentF, "") {
                total($0, teacherF, labels, loss: loss, w: w)
            }
            XCTAssertGreaterThan(moved, 0.01)
        }
    }

    /// The paper's decomposition: KL(q || p) = TCKD + (1 - q_t) * NCKD, sample by sample.
    func testKLIsTargetPlusWeightedNonTarget() {
        let (student, teacher) = (logits(seed: 5, spread: 4), logits(seed: 6, spread: 4))
        for (row, label) in labels.enumerated() {
            for t in [1.0, 4.0] {
                let (p, q) = (softmax(student[row], t), softmax(teacher[row], t))
                let kl = zip(q, p).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) }
                let r = reference(student[row], teacher[row], target: Int(label), t: t)
                XCTAssertEqual(kl, r.tckd + (1 - q[Int(label)]) * r.nckd, accuracy: 1e-12)
            }
        }
    }

    /// A student sure of the target (p_t rounding to 1 in float32) keeps a finite loss and gradient.
    func testAConfidentStudentStaysFinite() {
        let loss = DecoupledKnowledgeDistillation()
        let s: [Float] = [200, 0, 0], q: [Float] = [1, 2, 3], labels: [Int32] = [0]
        var gradient = [Float](repeating: 0, count: 3), sums = [0.0, 0.0]
        sums.withUnsafeMutableBufferPointer { out in
            loss.compute(LossBatch(student: s, teacher: q, labels: labels, rows: 1, classes: 3, globalCount: 1), gradient: &gradient, sums: out)
        }
        XCTAssertTrue(sums.allSatisfy(\.isFinite), "\(sums)")
        XCTAssertTrue(gradient.allSatisfy(\.isFinite), "\(gradient)")
    }

    func testTheRegistryMakesIt() throws {
        let made = try XCTUnwrap(try LossRegistry.make("dkd:beta=2:T=3", alpha: 0.1, temperature: 10) as? DecoupledKnowledgeDistillation)
        XCTAssertEqual([made.alpha, made.beta, made.temperature], [1, 2, 3], "its own alpha and T, not the KD mix")
        XCTAssertEqual(try LossRegistry.resolve("dkd:alpha=1:beta=8:T=4").canonical, "dkd")
    }
}
