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
    var optimizer: Optimizer { get }
    var communicator: Communicator { get }
    /// Sizes every workspace and plans every product for local batches of these sizes.
    func prepare(batchSizes: Set<Int>)
    /// Adds `d(mean loss over the global batch)/d(parameters)` from this rank's samples into the
    /// model's gradients and writes this rank's metric sums (loss sums, correct counts) into `sums`;
    /// the parts that are not a layer's (teacher logits, the loss) are timed on `clock` when one is given.
    func computeGradients(_ batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>, clock: StepClock?)
}

/// Times the parts of a real training step, for `bench --profile`; the model's `LayerClock` times its layers.
public protocol StepClock: AnyObject {
    /// Runs `body`, the step's part named `part`.
    func time(_ part: String, _ body: () -> Void)
}

/// `body` as the part `part` on `clock`, or just `body` (training has no clock).
@inline(__always)
func timed(_ clock: StepClock?, _ part: String, _ body: () -> Void) {
    if let clock { clock.time(part, body) } else { body() }
}

public extension LocalGradientStep {
    /// Trains for `epochs` over `data` in global batches of `batchSize`, shuffled each epoch from `seed`,
    /// each batch transformed by `augmentation` before the step sees it, evaluated on `validation` after each epoch.
    func fit(
        _ data: LabeledImages, epochs: Int, batchSize: Int, seed: UInt64, observer: TrainingObserver? = nil,
        control: FitControl = FitControl(), phase: String = "training", augmentation: DataAugmentation? = nil,
        validation: ValidationMonitor? = nil
    ) throws -> FitHistory {
        try runEpochs(self, data: data, epochs: epochs, batchSize: batchSize, seed: seed, communicator: communicator, observer: observer,
                      phase: phase, control: control, augmentation: augmentation, validation: validation)
    }

    /// `count` real training steps (the one `fit` takes) on `batch(step)`, each part timed on `clock`:
    /// what `bench --profile` measures. Call `prepare(batchSizes:)` first.
    func profileSteps(_ count: Int, clock: StepClock, batch: (Int) -> LocalBatch) {
        let stepper = DataParallelStepper(communicator: communicator)
        stepper.clock = clock
        var sums = [Double](repeating: 0, count: metricNames.count + 1)
        for step in 0..<count { sums.withUnsafeMutableBufferPointer { stepper.step(self, batch: batch(step), sums: $0) } }
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
    var clock: StepClock?

    init(communicator: Communicator) { self.communicator = communicator }

    /// One full step; `sums` comes back holding the global sums on every rank. `sums` has one slot
    /// more than the step's metrics, after them: this rank's `vote` (1 to stop), summed with them.
    func step(_ step: LocalGradientStep, batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>, vote: Double = 0) {
        let start = DispatchTime.now().uptimeNanoseconds
        timed(clock, "zero gradients") { step.model.parameters.zeroGradients() }
        sums.update(repeating: 0)
        step.computeGradients(batch, sums: UnsafeMutableBufferPointer(rebasing: sums[..<step.metricNames.count]), clock: clock)
        sums[step.metricNames.count] = vote
        let computed = DispatchTime.now().uptimeNanoseconds
        timed(clock, "allreduce") {
            communicator.allreduceSum(step.model.parameters.gradients.buffer)
            communicator.allreduceSum(sums)
        }
        // Keras adds the regularisers' penalty to each batch's loss: its gradient once, on every rank
        // alike, and the penalty to the loss sum as if each of the batch's samples carried it.
        step.model.addRegularizationGradients()
        if let loss = step.metricNames.firstIndex(of: "loss") { sums[loss] += step.model.regularizationPenalty() * Double(batch.globalCount) }
        let reduced = DispatchTime.now().uptimeNanoseconds
        timed(clock, "optimizer") {
            step.optimizer.update(step.model.parameters, trainable: step.model.trainableRanges)
            step.model.applyConstraints()   // Keras's optimizer constrains the weights it has just updated
        }
        let updated = DispatchTime.now().uptimeNanoseconds
        times.compute += Double(computed - start + updated - reduced) / 1e9
        times.allreduce += Double(reduced - computed) / 1e9
        times.steps += 1
        times.samples += batch.globalCount
    }
}
