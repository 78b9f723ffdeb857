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

    private func zscore(_ z: [Double]) -> [Double] {
        let m = z.reduce(0, +) / Double(z.count)
        let s = (z.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(z.count - 1)).squareRoot()
        return z.map { ($0 - m) / (1e-7 + s) }
    }

    /// `dkd:standardize`: the CE on the raw logits plus the DKD term of both models' z-scored logits
    /// (unbiased std plus 1e-7, as kd:standardize and the authors' code), by the definitions and by
    /// central differences through the z-score; the term is unchanged under `a * z + b` (a > 0) of either model's logits.
    func testStandardizedFollowsTheDefinitionsAndIgnoresAffineMaps() throws {
        let loss = try XCTUnwrap(try LossRegistry.make("dkd:standardize:warmup=0", alpha: 0.1, temperature: 10) as? DecoupledKnowledgeDistillation)
        XCTAssertTrue(loss.standardize)
        let (student, teacher) = (logits(seed: 11, spread: 3), logits(seed: 12, spread: 7))
        let (studentF, teacherF) = (student.map { $0.map { Double(Float($0)) } }, teacher.map { $0.map { Double(Float($0)) } })
        func run(_ student: [[Double]], _ teacher: [[Double]]) -> (sums: [Double], gradient: [Float]) {
            let (s, q) = (student.flatMap { $0.map(Float.init) }, teacher.flatMap { $0.map(Float.init) })
            var gradient = [Float](repeating: 0, count: 20), sums = [0.0, 0.0]
            sums.withUnsafeMutableBufferPointer { out in
                loss.compute(LossBatch(student: s, teacher: q, labels: labels, rows: 4, classes: 5, globalCount: 4), gradient: &gradient, sums: out)
            }
            return (sums, gradient)
        }
        func reference(_ s: [[Double]]) -> Double {
            let (a, b, t) = (Double(loss.alpha), Double(loss.beta), Double(loss.temperature))
            return zip(zip(s, teacherF), labels).reduce(0.0) { sum, item in
                let ce = -log(softmax(item.0.0, 1)[Int(item.1)])
                let r = self.reference(zscore(item.0.0), zscore(item.0.1), target: Int(item.1), t: t)
                return sum + ce + t * t * (a * r.tckd + b * r.nckd)
            } / 4
        }
        let (sums, gradient) = run(studentF, teacherF)
        XCTAssertEqual((sums[0] + sums[1]) / 4, reference(studentF), accuracy: 1e-5 * reference(studentF))
        let moved = assertGradientMatchesCentralDifferences(gradient, at: studentF, "standardized") { reference($0) }
        XCTAssertGreaterThan(moved, 0.01)
        for (scale, shift) in [(3.0, -2.0), (0.5, 7.0)] {
            let mapped = { (z: [[Double]]) in z.map { $0.map { Double(Float(scale * $0 + shift)) } } }
            XCTAssertEqual(run(mapped(studentF), teacherF).sums[1], sums[1], accuracy: 1e-4 * sums[1], "student logits mapped by \(scale), \(shift)")
            XCTAssertEqual(run(studentF, mapped(teacherF)).sums[1], sums[1], accuracy: 1e-4 * sums[1], "teacher logits mapped by \(scale), \(shift)")
        }
        // Plain DKD is not invariant: the test above could fail.
        let plain = DecoupledKnowledgeDistillation(warmup: 0)
        func plainTerm(_ student: [[Double]]) -> Double {
            let s = student.flatMap { $0.map(Float.init) }, q = teacherF.flatMap { $0.map(Float.init) }
            var gradient = [Float](repeating: 0, count: 20), sums = [0.0, 0.0]
            sums.withUnsafeMutableBufferPointer { out in
                plain.compute(LossBatch(student: s, teacher: q, labels: labels, rows: 4, classes: 5, globalCount: 4), gradient: &gradient, sums: out)
            }
            return sums[1]
        }
        XCTAssertGreaterThan(abs(plainTerm(studentF.map { $0.map { 3 * $0 } }) - plainTerm(studentF)), 0.1)
    }

    func testTheRegistryMakesIt() throws {
        let made = try XCTUnwrap(try LossRegistry.make("dkd:beta=2:T=3", alpha: 0.1, temperature: 10) as? DecoupledKnowledgeDistillation)
        XCTAssertEqual([made.alpha, made.beta, made.temperature], [1, 2, 3], "its own alpha and T, not the KD mix")
        XCTAssertEqual(try LossRegistry.resolve("dkd:alpha=1:beta=8:T=4").canonical, "dkd")
    }
}
