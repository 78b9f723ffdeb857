import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// The logit losses against PyTorch's autograd in float64 (Tests/Fixtures/torchdistill/losses.json,
/// scripts/make-torchdistill-fixtures.py, torch 2.13 and torchdistill 1.1.5): kd and kd:standardize
/// against torchdistill's KDLoss and LogitStdKDLoss, dist against its DISTLoss plus a cross-entropy,
/// dkd (torchdistill has none) against mdistiller's equation written in torch, with and without
/// the z-score. Each loss is made by the registry from its `--loss` text, as the command line makes
/// it, and run on one batch of 7 samples and 10 classes through `compute`.
///
/// Tolerance: the losses compute in float32 (KD, the cross-entropy) or in Double from float32
/// logits (DKD, DIST), so the mean total and both reported parts must match within 1e-5 relative,
/// and each gradient entry within 1e-5 of the gradient's largest entry (an entry near zero has
/// no meaningful relative error in float32). Both are some 14x the worst error seen (5e-7 relative
/// on a value, 7e-7 of the largest entry on a gradient); a 0.1% change of T, the warm-up one epoch
/// off, the population std in the z-score or a 0.1% skew of DIST's per-class sums each fails it.
final class TorchdistillReferenceTests: XCTestCase {
    struct Case: Decodable {
        let name: String, loss: String, alpha: Float, temperature: Float, epoch: Int, epochs: Int
        let student_loss: Double, distillation_loss: Double, total: Double
        let gradient: [Double]
    }
    struct Fixtures: Decodable {
        let torch: String, torchdistill: String
        let rows: Int, classes: Int
        let student: [Float], teacher: [Float], labels: [Int32]
        let cases: [Case]
    }

    static let fixtures: Fixtures = {
        let url = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/torchdistill/losses.json")
        return try! JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
    }()

    static let relative = 1e-5

    func testLossesMatchTorchdistill() throws {
        let f = Self.fixtures
        XCTAssertEqual(f.cases.count, 11)
        XCTAssertEqual(f.student.count, f.rows * f.classes)
        for c in f.cases {
            let loss = try LossRegistry.make(c.loss, alpha: c.alpha, temperature: c.temperature)
            loss.reserve(rows: f.rows, classes: f.classes)
            var gradient = [Float](repeating: 0, count: f.rows * f.classes), sums = [0.0, 0.0]
            f.student.withUnsafeBufferPointer { s in f.teacher.withUnsafeBufferPointer { q in f.labels.withUnsafeBufferPointer { y in
                sums.withUnsafeMutableBufferPointer {
                    loss.compute(LossBatch(student: s.baseAddress!, teacher: q.baseAddress!, labels: y.baseAddress!, rows: f.rows,
                                           classes: f.classes, globalCount: f.rows, epoch: c.epoch, epochs: c.epochs),
                                 gradient: &gradient, sums: $0)
                }
            } } }
            // The reported sums are over the batch; KD mixes its parts by alpha, DKD and DIST add them.
            let (student, distillation) = (sums[0] / Double(f.rows), sums[1] / Double(f.rows))
            let total = loss is DistillationLoss ? Double(c.alpha) * student + Double(1 - c.alpha) * distillation : student + distillation
            var worstValue = 0.0
            for (name, ours, theirs) in [("student_loss", student, c.student_loss), ("distillation_loss", distillation, c.distillation_loss),
                                         ("total", total, c.total)] {
                XCTAssertEqual(ours, theirs, accuracy: Self.relative * abs(theirs), "\(c.name): \(name)")
                worstValue = max(worstValue, abs(ours - theirs) / abs(theirs))
            }
            let largest = c.gradient.map(abs).max()!
            XCTAssertGreaterThan(largest, 0.01, c.name)
            var worst = 0.0
            for (i, (ours, theirs)) in zip(gradient, c.gradient).enumerated() {
                XCTAssertEqual(Double(ours), theirs, accuracy: Self.relative * largest, "\(c.name): d/dz[\(i / f.classes)][\(i % f.classes)]")
                worst = max(worst, abs(Double(ours) - theirs))
            }
            print("\(c.name): " + String(format: "values within %.2e relative, gradient within %.2e of its largest entry (%.2e absolute)",
                                           worstValue, worst / largest, worst))
        }
    }
}
