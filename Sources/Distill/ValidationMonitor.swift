import Collective
import Datasets
import NN

/// Held-out samples evaluated at the end of every epoch (`val_loss`, the sparse cross-entropy on
/// their labels, and `val_accuracy`, for every model, a distilled one too), and Keras's
/// `EarlyStopping(monitor, patience, restore_best_weights=True)` over them: the best epoch's weights
/// (moving statistics too) are kept and, with `restoreBest`, put back when the fit ends; with
/// `patience` N, the fit stops once N epochs in a row have not improved on the best (Keras's `wait`).
/// An improvement is strictly lower `val_loss` or strictly higher `val_accuracy`, as Keras's with
/// `min_delta` 0. The test set never chooses.
public final class ValidationMonitor {
    public enum Quantity: String, CaseIterable, Sendable { case loss = "val_loss", accuracy = "val_accuracy" }

    public let data: LabeledImages, batchSize: Int
    public let quantity: Quantity, restoreBest: Bool, patience: Int?
    public private(set) var best: BestEpoch?
    /// The best epoch's weights, laid out like the model's `ParameterStore` (nil before the first epoch).
    public private(set) var bestWeights: [Float]?

    public static let metricNames = ["val_loss", "val_accuracy"]

    public init(data: LabeledImages, batchSize: Int, quantity: Quantity = .loss, restoreBest: Bool, patience: Int? = nil) {
        (self.data, self.batchSize, self.quantity, self.restoreBest, self.patience) = (data, batchSize, quantity, restoreBest, patience)
    }

    /// Evaluates `model` after `epoch` (from 1), on every rank alike; returns `[val_loss, val_accuracy]`.
    func epochEnded(_ epoch: Int, model: Sequential, communicator: Communicator) throws -> [Double] {
        let evaluation = try Evaluation.run(model, on: data, batchSize: batchSize, communicator: communicator)
        record(quantity == .loss ? evaluation.loss : evaluation.accuracy, epoch: epoch) { model.parameters.values.array }
        return [evaluation.loss, evaluation.accuracy]
    }

    /// Keras's `on_epoch_end`: `wait` grows by one, and an improvement resets it and keeps `weights()`.
    func record(_ value: Double, epoch: Int, weights: () -> [Float]) {
        if best.map({ quantity == .loss ? value < $0.value : value > $0.value }) ?? true {
            bestWeights = weights()
            best = BestEpoch(epoch: epoch, value: value, wait: 0)
        } else {
            best!.wait += 1
        }
    }

    /// Whether patience has run out (never after the first epoch, as Keras's).
    var stops: Bool {
        guard let patience, let best else { return false }
        return best.wait >= patience && best.wait > 0
    }

    /// Puts the best epoch's weights back into `model` (with `restoreBest`); returns that epoch.
    func finish(_ model: Sequential) -> Int? {
        guard restoreBest, let best, let bestWeights else { return nil }
        _ = model.parameters.values.buffer.update(fromContentsOf: bestWeights)
        return best.epoch
    }

    /// Continues from a saved state's record and weights.
    public func resume(best saved: BestEpoch?, weights: [Float]?) {
        (best, bestWeights) = (saved, weights)
    }

    /// The best epoch so far, its monitored value, and the epochs since it (Keras's `wait`).
    public struct BestEpoch: Sendable, Equatable {
        public var epoch: Int, value: Double, wait: Int
        public init(epoch: Int, value: Double, wait: Int) { (self.epoch, self.value, self.wait) = (epoch, value, wait) }
    }
}
