import Collective
import Datasets
import NN

/// Test figures of a model: mean sparse categorical cross-entropy and accuracy over a dataset.
public struct Evaluation: Sendable, Equatable {
    public var loss: Double
    public var accuracy: Double
    public var count: Int

    /// Each rank evaluates its contiguous share of `data` in batches; one allreduce of the sums
    /// gives every rank the global figures. A loss that is not finite (the model's outputs overflow)
    /// is an error on every rank alike, not a figure to report.
    public static func run(_ model: Sequential, on data: LabeledImages, batchSize: Int, communicator: Communicator) throws -> Evaluation {
        let classes = model.outputSize
        let share = shardRange(total: data.count, rank: communicator.rank, size: communicator.size)
        var sums = [0.0, 0.0]   // loss, correct
        let loss = SparseCategoricalCrossentropy()
        forwardInBatches(model, data: data, range: share, batchSize: batchSize) { logits, labels, _, count in
            sums[0] += loss(logits: logits, labels: labels, rows: count, classes: classes, gradient: nil, scale: 1)
            sums[1] += Double(correctCount(logits: logits, labels: labels, rows: count, classes: classes))
        }
        communicator.allreduceSum(&sums)
        guard sums[0].isFinite else {
            throw TrainingError("evaluating \(model.description?.name ?? "the model") on \(data.count) samples: the loss became \(sums[0]) "
                + "(its outputs are not finite numbers); the model is not usable")
        }
        let count = max(data.count, 1)
        // Keras's evaluate reports the loss with the regularisers' penalty in it, as fit does.
        return Evaluation(loss: sums[0] / Double(count) + model.regularizationPenalty(), accuracy: sums[1] / Double(count), count: data.count)
    }
}
