import Distill
import Foundation
import NN
import XCTest

/// MixUp's labels in the losses: the mixed cross-entropy against `lambda CE(y) + (1 - lambda) CE(y')` written
/// in Double, its gradient by central differences, lambda = 1 giving the plain loss bit for bit (alone and in kd,
/// dkd and dist), each distillation loss's CE part mixed while its teacher term is unchanged, and accuracy
/// counted against the label of the larger weight.
final class MixedCrossEntropyTests: XCTestCase {
    private let (rows, classes) = (6, 5)
    private let labels: [Int32] = [2, 0, 4, 1, 3, 3]
    private let partners: [Int32] = [1, 0, 2, 4, 3, 0]       // row 1 and row 4: a partner of the same class
    private let weights: [Float] = [0.3, 0.8, 0, 1, 0.5, 0.95]

    private func logits(seed: UInt64, spread: Double) -> [[Double]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<rows).map { _ in (0..<classes).map { _ in Double(Float((Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * spread)) } }
    }

    private func crossEntropy(_ z: [Double], _ label: Int) -> Double {
        let top = z.max()!
        return top + log(z.reduce(0.0) { $0 + exp($1 - top) }) - z[label]
    }

    /// `sum_r lambda_r CE(y_r) + (1 - lambda_r) CE(y'_r)`, in Double.
    private func mixedReference(_ z: [[Double]], weights: [Float]) -> Double {
        z.indices.reduce(0.0) { sum, r in
            let lambda = Double(weights[r])
            return sum + lambda * crossEntropy(z[r], Int(labels[r])) + (1 - lambda) * crossEntropy(z[r], Int(partners[r]))
        }
    }

    /// The loss summed over rows and `gradient = scale * d/dz`, mixed with `weights` (nil: unmixed).
    private func mixedCE(_ z: [Float], weights: [Float]?, scale: Float) -> (sum: Double, gradient: [Float]) {
        var gradient = [Float](repeating: .nan, count: z.count)
        let sum = labels.withUnsafeBufferPointer { y in partners.withUnsafeBufferPointer { p in (weights ?? []).withUnsafeBufferPointer { w in
            SparseCategoricalCrossentropy()(logits: z, labels: y.baseAddress!, mix: weights == nil ? nil : LabelMix(partners: p.baseAddress!, weights: w.baseAddress!),
                                            rows: rows, classes: classes, gradient: &gradient, scale: scale)
        } } }
        return (sum, gradient)
    }

    func testMixedCrossEntropyAndItsGradientFollowTheDefinition() {
        let z = logits(seed: 11, spread: 4)
        let floats = z.flatMap { $0.map(Float.init) }
        let (sum, gradient) = mixedCE(floats, weights: weights, scale: 1 / Float(rows))
        XCTAssertEqual(sum, mixedReference(z, weights: weights), accuracy: 1e-5 * abs(sum))
        let largest = assertGradientMatchesCentralDifferences(gradient, at: z, "mixed CE") { mixedReference($0, weights: weights) / Double(rows) }
        XCTAssertGreaterThan(largest, 0.05)
    }

    func testLambdaOneIsThePlainCrossEntropyBitForBit() {
        let floats = logits(seed: 12, spread: 6).flatMap { $0.map(Float.init) }
        let plain = mixedCE(floats, weights: nil, scale: 1 / 7)
        let ones = mixedCE(floats, weights: [Float](repeating: 1, count: rows), scale: 1 / 7)
        XCTAssertEqual(ones.sum.bitPattern, plain.sum.bitPattern)
        XCTAssertEqual(ones.gradient.map(\.bitPattern), plain.gradient.map(\.bitPattern))
        XCTAssertNotEqual(mixedCE(floats, weights: weights, scale: 1 / 7).sum, plain.sum, "other weights do mix")
    }

    /// (sums, gradient) of one loss on the fixed batch; `weights` nil computes it unmixed.
    private func run(_ loss: DistillationObjective, weights: [Float]?) -> (sums: [Double], gradient: [Float]) {
        let (student, teacher) = (logits(seed: 1, spread: 3).flatMap { $0.map(Float.init) }, logits(seed: 2, spread: 5).flatMap { $0.map(Float.init) })
        var (gradient, sums) = ([Float](repeating: .nan, count: rows * classes), [0.0, 0.0])
        loss.reserve(rows: rows, classes: classes)
        student.withUnsafeBufferPointer { s in teacher.withUnsafeBufferPointer { q in
            labels.withUnsafeBufferPointer { y in partners.withUnsafeBufferPointer { p in (weights ?? []).withUnsafeBufferPointer { w in
                sums.withUnsafeMutableBufferPointer { out in
                    let mix = weights == nil ? nil : LabelMix(partners: p.baseAddress!, weights: w.baseAddress!)
                    loss.compute(LossBatch(student: s.baseAddress!, teacher: q.baseAddress!, labels: y.baseAddress!, rows: rows, classes: classes,
                                           globalCount: 8, epoch: 2, epochs: 4, mix: mix), gradient: &gradient, sums: out)
                }
            } } }
        } }
        return (sums, gradient)
    }

    /// kd, dkd and dist: lambda = 1 everywhere is the unmixed loss bit for bit; with other weights the CE part
    /// (`student_loss`) is the mixed one, the teacher term is unchanged bit for bit, and the gradient moves by the
    /// CE's weight times `scale (1 - lambda)(onehot(y) - onehot(y'))`.
    func testEveryLossMixesItsCrossEntropyAndKeepsItsTeacherTerm() {
        let losses: [(String, Double, () -> DistillationObjective)] = [
            ("kd", 0.3, { DistillationLoss(alpha: 0.3, temperature: 4) }),
            ("kd:standardize", 0.3, { DistillationLoss(alpha: 0.3, temperature: 4, standardize: true) }),
            ("dkd", 1, { DecoupledKnowledgeDistillation(warmup: 0.5) }),
            ("dist", 1, { CorrelationDistillation() }),
        ]
        let studentLogits = logits(seed: 1, spread: 3).map { $0.map { Double(Float($0)) } }
        for (name, ceWeight, make) in losses {
            let plain = run(make(), weights: nil)
            let ones = run(make(), weights: [Float](repeating: 1, count: rows))
            XCTAssertEqual(ones.sums.map(\.bitPattern), plain.sums.map(\.bitPattern), "\(name): lambda 1 sums")
            XCTAssertEqual(ones.gradient.map(\.bitPattern), plain.gradient.map(\.bitPattern), "\(name): lambda 1 gradient")

            let mixed = run(make(), weights: weights)
            XCTAssertEqual(mixed.sums[0], mixedReference(studentLogits, weights: weights), accuracy: 1e-5 * mixed.sums[0], "\(name): student_loss")
            XCTAssertEqual(mixed.sums[1].bitPattern, plain.sums[1].bitPattern, "\(name): the teacher term is unchanged")
            for r in 0..<rows {
                for c in 0..<classes {
                    let shift = (c == Int(labels[r]) ? 1.0 : 0) - (c == Int(partners[r]) ? 1.0 : 0)
                    let expected = Double(plain.gradient[r * classes + c]) + ceWeight * (1 - Double(weights[r])) * shift / 8
                    XCTAssertEqual(Double(mixed.gradient[r * classes + c]), expected, accuracy: 1e-6, "\(name) d/dz[\(r)][\(c)]")
                }
            }
        }
    }

    /// Accuracy counts each row against the label of the larger weight: its own when lambda >= 1/2.
    func testAccuracyCountsTheLabelOfTheLargerWeight() {
        // Row r predicts class r % 5 (logit 1, the rest 0).
        let z: [Float] = (0..<rows).flatMap { r in (0..<classes).map { $0 == r % classes ? 1 : 0 } }
        let own: [Int32] = [0, 1, 2, 3, 4, 0], partner: [Int32] = [1, 2, 2, 0, 3, 3]
        let lambda: [Float] = [0.5, 0.49, 0, 1, 0.2, 0.7]
        // Counted against 0, 2, 2, 3, 3, 0: rows 0, 2, 3 and 5 predict it.
        let count = own.withUnsafeBufferPointer { y in partner.withUnsafeBufferPointer { p in lambda.withUnsafeBufferPointer { w in
            correctCount(logits: z, labels: y.baseAddress!, mix: LabelMix(partners: p.baseAddress!, weights: w.baseAddress!), rows: rows, classes: classes)
        } } }
        XCTAssertEqual(count, 4)
        XCTAssertEqual(correctCount(logits: z, labels: own, mix: nil, rows: rows, classes: classes), 6, "unmixed: the own labels")
    }
}
