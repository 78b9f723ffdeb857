import Distill
import NN   // SeededGenerator: the random cases are the same every run
import Foundation
import XCTest

/// Agreement with the teacher and expected calibration error against hand-worked figures, a second
/// (naive) binning on random logits, and batch splits that cannot change them.
final class PredictionFiguresTests: XCTestCase {
    private func figures(_ logits: [Float], labels: [Int32], teacher: [Float]?, classes: Int, split: Int? = nil) -> PredictionFigures {
        var tally = PredictionFigures.Tally()
        let rows = labels.count
        let cut = split ?? rows
        for range in [0..<cut, cut..<rows] where !range.isEmpty {
            logits.withUnsafeBufferPointer { z in
                labels.withUnsafeBufferPointer { y in
                    if let teacher {
                        teacher.withUnsafeBufferPointer { t in
                            tally.add(logits: z.baseAddress! + range.lowerBound * classes, labels: y.baseAddress! + range.lowerBound,
                                      teacher: t.baseAddress! + range.lowerBound * classes, rows: range.count, classes: classes)
                        }
                    } else {
                        tally.add(logits: z.baseAddress! + range.lowerBound * classes, labels: y.baseAddress! + range.lowerBound,
                                  teacher: nil, rows: range.count, classes: classes)
                    }
                }
            }
        }
        return tally.figures(withTeacher: teacher != nil)
    }

    /// Four samples of two classes with confidences 0.9 (right), 0.9 (wrong), 0.55 (right), 0.7 (right):
    /// bins 13, 13, 8, 10 of 15, so ECE = 2/4 |0.5 - 0.9| + 1/4 |1 - 0.55| + 1/4 |1 - 0.7| = 0.3875.
    func testHandWorkedFourSamples() throws {
        let probabilities: [[Float]] = [[0.9, 0.1], [0.9, 0.1], [0.55, 0.45], [0.3, 0.7]]
        let logits = probabilities.flatMap { $0.map { Foundation.log($0) } }
        let teacher: [Float] = [3, 1, 0, 2, 5, -1, 1, 0]   // argmax 0, 1, 0, 0 against the student's 0, 0, 0, 1
        let result = figures(logits, labels: [0, 1, 0, 1], teacher: teacher, classes: 2)
        XCTAssertEqual(result.calibrationError, 0.3875, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(result.agreement), 0.5)
        XCTAssertNil(figures(logits, labels: [0, 1, 0, 1], teacher: nil, classes: 2).agreement)
        // All right at confidence 1 minus a hair: calibrated to within that hair.
        let sure = figures([40, 0, 0, 40], labels: [0, 1], teacher: nil, classes: 2)
        XCTAssertLessThan(sure.calibrationError, 1e-12)
    }

    /// Random logits of 10 classes: the tally equals a naive binning written from the definition
    /// (bin i holds confidences in (i/15, (i+1)/15]), and splitting the rows into two batches changes nothing.
    func testRandomLogitsAgreeWithANaiveBinningAndAnyBatchSplit() throws {
        var generator = SeededGenerator(seed: 15)
        for trial in 0..<20 {
            let (rows, classes) = (257, 10)
            let scale = Float(trial % 4 + 1)
            let logits = (0..<rows * classes).map { _ in Float.random(in: -scale...scale, using: &generator) }
            let teacher = (0..<rows * classes).map { _ in Float.random(in: -1...1, using: &generator) }
            let labels = (0..<rows).map { _ in Int32.random(in: 0..<Int32(classes), using: &generator) }
            var confidence = [Double](), correct = [Bool](), agree = 0
            for r in 0..<rows {
                let z = Array(logits[r * classes..<(r + 1) * classes]).map(Double.init)
                let t = Array(teacher[r * classes..<(r + 1) * classes])
                let best = z.firstIndex(of: z.max()!)!
                confidence.append(Foundation.exp(z[best]) / z.map { Foundation.exp($0) }.reduce(0, +))
                correct.append(best == Int(labels[r]))
                if t.firstIndex(of: t.max()!)! == best { agree += 1 }
            }
            var expected = 0.0
            for bin in 0..<15 {
                let members = confidence.indices.filter { confidence[$0] > Double(bin) / 15 && confidence[$0] <= Double(bin + 1) / 15 }
                guard !members.isEmpty else { continue }
                let accuracy = Double(members.filter { correct[$0] }.count) / Double(members.count)
                let meanConfidence = members.map { confidence[$0] }.reduce(0, +) / Double(members.count)
                expected += Double(members.count) / Double(rows) * abs(accuracy - meanConfidence)
            }
            let whole = figures(logits, labels: labels, teacher: teacher, classes: classes)
            XCTAssertEqual(whole.calibrationError, expected, accuracy: 1e-9, "trial \(trial)")
            XCTAssertEqual(whole.agreement, Double(agree) / Double(rows))
            XCTAssertEqual(figures(logits, labels: labels, teacher: teacher, classes: classes, split: 100), whole)
        }
    }
}
