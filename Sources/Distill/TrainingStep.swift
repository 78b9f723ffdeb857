import Collective
import Datasets
import Foundation
import NN

/// One kind of data-parallel training step (supervised or distillation): the local forward and
/// backward, then the parts every step shares (one gradient allreduce, one metric allreduce,
/// the optimizer update), done by `DataParallelStepper`. `fit` and `evaluate` are written once, here.
public protocol LocalGradientStep: AnyObject {
    /// Names of the summed quantities `computeGradients` writes, e.g. `["loss", "accuracy"]`.
    var metricNames: [String] { get }
    /// The model that learns (the student, for a distiller).
    var model: Sequential { get }
    var optimizer: Adam { get }
    var communicator: Communicator { get }
    /// Sizes every workspace and plans every product for local batches of these sizes.
    func prepare(batchSizes: Set<Int>)
    /// Adds `d(mean loss over the global batch)/d(parameters)` from this rank's samples into the
    /// model's gradients and writes this rank's metric sums (loss sums, correct counts) into `sums`.
    func computeGradients(_ batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>)
}

public extension LocalGradientStep {
    /// Trains for `epochs` over `data` in global batches of `batchSize`, shuffled each epoch from `seed`.
    func fit(
        _ data: LabeledImages, epochs: Int, batchSize: Int, seed: UInt64, observer: TrainingObserver? = nil,
        control: FitControl = FitControl(), phase: String = "training"
    ) throws -> FitHistory {
        try runEpochs(self, data: data, epochs: epochs, batchSize: batchSize, seed: seed,
                      communicator: communicator, observer: observer, phase: phase, control: control)
    }

    /// The model's loss (cross-entropy) and accuracy on `data`.
    func evaluate(_ data: LabeledImages, batchSize: Int) throws -> Evaluation {
        try Evaluation.run(model, on: data, batchSize: batchSize, communicator: communicator)
    }
}

/// Seconds spent computing and in collectives, summed over steps.
public struct StepTimes: Sendable {
    public var compute = 0.0
    public var allreduce = 0.0
    public var steps = 0
    public var samples = 0
}

/// Drives a `LocalGradientStep` across ranks: zero, compute, reduce, update.
final class DataParallelStepper {
    let communicator: Communicator
    private(set) var times = StepTimes()

    init(communicator: Communicator) { self.communicator = communicator }

    /// One full step; `sums` comes back holding the global sums on every rank. `sums` has one slot
    /// more than the step's metrics, after them: this rank's `vote` (1 to stop), summed with them.
    func step(_ step: LocalGradientStep, batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>, vote: Double = 0) {
        let start = DispatchTime.now().uptimeNanoseconds
        step.model.parameters.zeroGradients()
        sums.update(repeating: 0)
        step.computeGradients(batch, sums: UnsafeMutableBufferPointer(rebasing: sums[..<step.metricNames.count]))
        sums[step.metricNames.count] = vote
        let computed = DispatchTime.now().uptimeNanoseconds
        communicator.allreduceSum(step.model.parameters.gradients.buffer)
        communicator.allreduceSum(sums)
        let reduced = DispatchTime.now().uptimeNanoseconds
        step.optimizer.update(step.model.parameters)
        let updated = DispatchTime.now().uptimeNanoseconds
        times.compute += Double(computed - start + updated - reduced) / 1e9
        times.allreduce += Double(reduced - computed) / 1e9
        times.steps += 1
        times.samples += batch.globalCount
    }
}
