import Datasets
import Foundation
import NN

/// Two figures of a student's predictions on an evaluation set that cost no teacher pass (its logits are cached):
/// - top-1 agreement with the teacher: the share of samples whose argmax is the teacher's (first maximum on ties);
/// - expected calibration error over 15 equal-width bins of confidence, as Guo et al. 2017 bin it:
///   `ECE = sum_b |b| / n * |accuracy(b) - mean confidence(b)|`, confidence the largest softmax probability,
///   bin i holding confidences in (i / 15, (i + 1) / 15].
public struct PredictionFigures: Sendable, Equatable {
    public static let bins = 15

    /// nil without the teacher's logits of the set.
    public var agreement: Double?
    public var calibrationError: Double

    /// Running sums over batches of rows.
    public struct Tally {
        var count = [Int](repeating: 0, count: PredictionFigures.bins)
        var correct = [Int](repeating: 0, count: PredictionFigures.bins)
        var confidence = [Double](repeating: 0, count: PredictionFigures.bins)
        var agreeing = 0
        var rows = 0

        public init() {}

        /// Adds `rows` rows of `logits` `[rows, classes]` with their labels and, if known, the teacher's logits of the same rows.
        public mutating func add(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, teacher: UnsafePointer<Float>?, rows: Int, classes: Int) {
            for r in 0..<rows {
                let z = logits + r * classes
                let best = predictedClass(z, classes: classes)
                var sum = 0.0   // sum_j exp(z_j - z_best): the largest probability is its inverse
                for c in 0..<classes { sum += Foundation.exp(Double(z[c]) - Double(z[best])) }
                let confidence = 1 / sum
                let bin = min(max(Int((confidence * Double(PredictionFigures.bins)).rounded(.up)) - 1, 0), PredictionFigures.bins - 1)
                count[bin] += 1
                self.confidence[bin] += confidence
                if best == Int(labels[r]) { correct[bin] += 1 }
                if let teacher, predictedClass(teacher + r * classes, classes: classes) == best { agreeing += 1 }
            }
            self.rows += rows
        }

        public func figures(withTeacher: Bool) -> PredictionFigures {
            let n = Double(max(rows, 1))
            var error = 0.0
            for b in 0..<PredictionFigures.bins where count[b] > 0 {
                error += Double(count[b]) / n * abs(Double(correct[b]) / Double(count[b]) - confidence[b] / Double(count[b]))
            }
            return PredictionFigures(agreement: withTeacher ? Double(agreeing) / n : nil, calibrationError: error)
        }
    }

    public init(agreement: Double?, calibrationError: Double) { (self.agreement, self.calibrationError) = (agreement, calibrationError) }

    /// `model`'s figures on `data` in this process; `teacher`: the teacher's logits of `data`, row i for sample i.
    public static func measure(_ model: Sequential, on data: LabeledImages, teacher: CachedTeacherLogits?, batchSize: Int) -> PredictionFigures {
        let classes = model.outputSize
        precondition(teacher.map { $0.count == data.count && $0.classes == classes } ?? true, "teacher logits do not match the data")
        var tally = Tally()
        forwardInBatches(model, data: data, range: 0..<data.count, batchSize: batchSize) { logits, labels, offset, count in
            tally.add(logits: logits, labels: labels, teacher: teacher.map { $0.table.pointer + offset * classes }, rows: count, classes: classes)
        }
        return tally.figures(withTeacher: teacher != nil)
    }
}
