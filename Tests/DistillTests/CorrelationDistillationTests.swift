@testable import Distill
import Foundation
import NN
import XCTest

/// DIST against its definition written out naively in Double (full softmaxes, two-pass Pearson
/// correlations of rows and of columns), its gradient by central finite differences, the Pearson
/// correlation's invariance under positive affine maps, a batch split across two ranks (the intra
/// term through the reducer) against the whole batch, and the registry's defaults.
final class CorrelationDistillationTests: XCTestCase {
    private func softmax(_ z: [Double], _ t: Double) -> [Double] {
        let top = z.max()! / t
        let e = z.map { exp($0 / t - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    private func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let (ma, mb) = (a.reduce(0, +) / Double(a.count), b.reduce(0, +) / Double(b.count))
        let (u, v) = (a.map { $0 - ma }, b.map { $0 - mb })
        let dot = zip(u, v).reduce(0.0) { $0 + $1.0 * $1.1 }
        let (nu, nv) = (u.reduce(0.0) { $0 + $1 * $1 }.squareRoot(), v.reduce(0.0) { $0 + $1 * $1 }.squareRoot())
        return dot / (nu * nv + 1e-8)
    }

    /// The mean total over the batch, from the definition.
    private func total(_ student: [[Double]], _ teacher: [[Double]], _ labels: [Int32], beta: Double, gamma: Double, t: Double) -> Double {
        let (p, q) = (student.map { softmax($0, t) }, teacher.map { softmax($0, t) })
        let ce = zip(student, labels).reduce(0.0) { $0 - log(softmax($1.0, 1)[Int($1.1)]) } / Double(student.count)
        let inter = 1 - zip(p, q).reduce(0.0) { $0 + pearson($1.0, $1.1) } / Double(p.count)
        let classes = p[0].count
        let intra = 1 - (0..<classes).reduce(0.0) { sum, c in sum + pearson(p.map { $0[c] }, q.map { $0[c] }) } / Double(classes)
        return ce + t * t * (beta * inter + gamma * intra)
    }

    private func logits(seed: UInt64, rows: Int, spread: Double) -> [[Double]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<rows).map { _ in (0..<5).map { _ in Double(Float((Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * spread)) } }
    }

    private let labels: [Int32] = [2, 0, 4, 1, 3, 3]

    /// Sums and gradient of `loss` on rows `range` of a batch of `globalCount`, with `reducer`.
    private func compute(_ loss: CorrelationDistillation, _ student: [[Double]], _ teacher: [[Double]], rows range: Range<Int>,
                         globalCount: Int, reducer: BatchReducer? = nil) -> (sums: [Double], gradient: [Float]) {
        let (s, q) = (student[range].flatMap { $0.map(Float.init) }, teacher[range].flatMap { $0.map(Float.init) })
        let labels = Array(self.labels[range])
        var gradient = [Float](repeating: 0, count: s.count), sums = [0.0, 0.0]
        s.withUnsafeBufferPointer { sp in q.withUnsafeBufferPointer { qp in labels.withUnsafeBufferPointer { lp in
            sums.withUnsafeMutableBufferPointer { out in
                loss.compute(LossBatch(student: sp.baseAddress!, teacher: qp.baseAddress!, labels: lp.baseAddress!, rows: range.count,
                                       classes: 5, globalCount: globalCount, reducer: reducer), gradient: &gradient, sums: out)
            }
        } } }
        return (sums, gradient)
    }

    func testSumsAndGradientFollowTheDefinition() {
        for (beta, gamma, temperature) in [(Float(2), Float(2), Float(4)), (1, 0, 1), (0, 3, 2), (0.5, 1.5, 8)] {
            let loss = CorrelationDistillation(beta: beta, gamma: gamma, temperature: temperature)
            let (student, teacher) = (logits(seed: 1, rows: 6, spread: 3), logits(seed: 2, rows: 6, spread: 6))
            let (b, g, t) = (Double(beta), Double(gamma), Double(temperature))
            let (sums, gradient) = compute(loss, student, teacher, rows: 0..<6, globalCount: 6)
            let expected = total(student, teacher, labels, beta: b, gamma: g, t: t)
            let ce = zip(student, labels).reduce(0.0) { $0 - log(softmax($1.0, 1)[Int($1.1)]) }
            // The DIST term in Double, to the last digits; the cross-entropy as NN's float32 computes it.
            XCTAssertEqual(sums[1] / 6, expected - ce / 6, accuracy: 1e-12 + 1e-9 * abs(expected), "the DIST term at \(beta), \(gamma), \(temperature)")
            XCTAssertEqual(sums[0], ce, accuracy: 1e-6 * ce, "student_loss is the cross-entropy sum")
            let moved = assertGradientMatchesCentralDifferences(gradient, at: student, "\(beta), \(gamma), \(temperature)") {
                total($0, teacher, labels, beta: b, gamma: g, t: t)
            }
            XCTAssertGreaterThan(moved, 0.01)
        }
    }

    /// The gradient of the DIST term alone (no cross-entropy's to hide a slip behind) by finite
    /// differences: a student nearly the teacher, where correlations approach 1.
    func testDistTermGradientNearTheTeacher() {
        let teacher = logits(seed: 3, rows: 6, spread: 5)
        let student = zip(teacher, logits(seed: 4, rows: 6, spread: 0.3)).map { zip($0.0, $0.1).map { Double(Float($0 + $1)) } }
        let loss = CorrelationDistillation(beta: 2, gamma: 2, temperature: 4)
        let (sums, gradient) = compute(loss, student, teacher, rows: 0..<6, globalCount: 6)
        let (_, ceOnly) = compute(CorrelationDistillation(beta: 0, gamma: 0, temperature: 4), student, teacher, rows: 0..<6, globalCount: 6)
        let term = zip(gradient, ceOnly).map { $0 - $1 }
        let dist = { (z: [[Double]]) in
            self.total(z, teacher, self.labels, beta: 2, gamma: 2, t: 4) - self.total(z, teacher, self.labels, beta: 0, gamma: 0, t: 4)
        }
        XCTAssertEqual(sums[1] / 6, dist(student), accuracy: 1e-9)
        let moved = assertGradientMatchesCentralDifferences(term, at: student, "DIST term") { dist($0) }
        XCTAssertGreaterThan(moved, 1e-4)
    }

    /// Pearson's correlation ignores a positive scale and a shift of either argument, and a negative
    /// scale flips its sign; the 1e-8 in its denominator is the only departure.
    func testPearsonIsInvariantUnderPositiveAffineMaps() {
        let (a, b) = ([0.1, 0.5, 0.2, 0.15, 0.05], [0.3, 0.3, 0.1, 0.2, 0.1])
        let r = CorrelationDistillation.pearson(a, b, count: 5)
        XCTAssertEqual(r, pearson(a, b), accuracy: 1e-15)
        XCTAssertGreaterThan(abs(r), 0.1)
        for (scale, shift) in [(3.0, 0.7), (0.25, -1.0), (100.0, 5.0)] {
            let mapped = b.map { scale * $0 + shift }
            XCTAssertEqual(CorrelationDistillation.pearson(a, mapped, count: 5), r, accuracy: 1e-6)
            XCTAssertEqual(CorrelationDistillation.pearson(a.map { scale * $0 + shift }, b, count: 5), r, accuracy: 1e-6)
            XCTAssertEqual(CorrelationDistillation.pearson(a, b.map { -scale * $0 + shift }, count: 5), -r, accuracy: 1e-6)
        }
    }

    /// Two ranks with 4 and 2 of the 6 rows, their intra-class sums added by a reducer as an allreduce
    /// would, give the whole batch's loss and each row's gradient.
    func testABatchSplitAcrossTwoRanksMatchesTheWholeBatch() throws {
        let (student, teacher) = (logits(seed: 7, rows: 6, spread: 4), logits(seed: 8, rows: 6, spread: 4))
        let whole = compute(CorrelationDistillation(), student, teacher, rows: 0..<6, globalCount: 6)
        let reducer = TwoRankReducer()
        var halves = [(sums: [Double], gradient: [Float])](repeating: ([], []), count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { rank in
            let range = rank == 0 ? 0..<4 : 4..<6
            let result = compute(CorrelationDistillation(), student, teacher, rows: range, globalCount: 6, reducer: reducer.rank(rank))
            reducer.lock.withLock { halves[rank] = result }
        }
        for metric in 0..<2 {
            XCTAssertEqual(halves[0].sums[metric] + halves[1].sums[metric], whole.sums[metric], accuracy: 1e-12 * abs(whole.sums[metric]))
        }
        let split = halves[0].gradient + halves[1].gradient
        for (a, b) in zip(split, whole.gradient) { XCTAssertEqual(a, b, accuracy: 1e-7) }
        // Without the reduction, each rank's intra term would be its own slice's: a different loss.
        let alone = compute(CorrelationDistillation(), student, teacher, rows: 0..<4, globalCount: 6)
        XCTAssertGreaterThan(abs(alone.sums[1] - halves[0].sums[1]), 1e-3)
    }

    func testRegistryGivesTheAuthorsCIFARDefaults() throws {
        let loss = try XCTUnwrap(try LossRegistry.make("dist", alpha: 0.1, temperature: 10) as? CorrelationDistillation)
        XCTAssertEqual([loss.beta, loss.gamma, loss.temperature], [2, 2, 4])
        let tuned = try XCTUnwrap(try LossRegistry.make("dist:beta=1:gamma=0.5:T=1", alpha: 0.1, temperature: 10) as? CorrelationDistillation)
        XCTAssertEqual([tuned.beta, tuned.gamma, tuned.temperature], [1, 0.5, 1])
        XCTAssertThrowsError(try LossRegistry.resolve("dist:T=0"))
        XCTAssertThrowsError(try LossRegistry.resolve("dist:alpha=1"))
    }
}

/// Two threads standing in for two ranks: each `sum` waits for the other's values and returns the total.
private final class TwoRankReducer {
    let lock = NSLock()
    private let condition = NSCondition()
    private var posted: [[Double]?] = [nil, nil]

    func rank(_ rank: Int) -> BatchReducer { Rank(owner: self, rank: rank) }

    private final class Rank: BatchReducer {
        let owner: TwoRankReducer, rank: Int
        init(owner: TwoRankReducer, rank: Int) { (self.owner, self.rank) = (owner, rank) }
        func sum(_ values: UnsafeMutableBufferPointer<Double>) {
            let condition = owner.condition
            condition.lock()
            owner.posted[rank] = Array(values)
            condition.broadcast()
            while owner.posted[1 - rank] == nil { condition.wait() }
            let other = owner.posted[1 - rank]!
            for i in values.indices { values[i] += other[i] }
            condition.unlock()
        }
    }
}

private extension CorrelationDistillation {
    static func pearson(_ a: [Double], _ b: [Double], count: Int) -> Double {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in pearson(a.baseAddress!, b.baseAddress!, count: count) } }
    }
}
