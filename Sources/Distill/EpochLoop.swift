import Collective
import Datasets
import Foundation
import NN

/// What `fit` returns: per-epoch global metric means and where the time went.
public struct FitHistory: Sendable {
    public var metricNames: [String]
    /// `[epoch][metric]`, means over the epoch's samples.
    public var epochs: [[Double]] = []
    public var epochSeconds: [Double] = []
    public var times = StepTimes()
    /// The epoch whose weights the fit ended with, when a validation split restored the best one.
    public var restoredEpoch: Int?

    public init(metricNames: [String]) { self.metricNames = metricNames }

    public func last(_ name: String) -> Double? {
        guard let i = metricNames.firstIndex(of: name) else { return nil }
        return epochs.last?[i]
    }
}

/// The epoch loop every trainer shares: the same seeded permutation on every rank, global
/// batches split into contiguous rank slices, one step per global batch (even for a rank whose
/// slice is empty, so every rank takes every collective), running global means for progress.
/// `control` resumes from a saved position, saves at step boundaries and stops on request.
func runEpochs(
    _ step: LocalGradientStep, data: LabeledImages, epochs: Int, batchSize: Int, seed: UInt64,
    communicator: Communicator, observer: TrainingObserver?, phase: String, control: FitControl = FitControl(),
    augmentation: DataAugmentation? = nil, validation: ValidationMonitor? = nil
) throws -> FitHistory {
    let schedule = BatchSchedule(sampleCount: data.count, batchSize: batchSize)
    // Buffers hold the largest rank slice; a batch larger than the data set is just one batch.
    let maxLocal = shardRange(total: min(batchSize, data.count), rank: 0, size: communicator.size).count
    step.prepare(batchSizes: schedule.localBatchSizes(rank: communicator.rank, size: communicator.size).union([maxLocal]))
    let images = FloatBuffer(count: maxLocal * data.sampleSize)
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: max(maxLocal, 1))
    // MixUp's partner labels and weights, [maxLocal] each, written by `augmentation.mix`.
    let partnerLabels = UnsafeMutablePointer<Int32>.allocate(capacity: max(maxLocal, 1))
    let mixWeights = UnsafeMutablePointer<Float>.allocate(capacity: max(maxLocal, 1))
    defer { labels.deallocate(); partnerLabels.deallocate(); mixWeights.deallocate() }
    let names = step.metricNames
    let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: names.count + 1)   // metrics, stop votes
    let totals = UnsafeMutableBufferPointer<Double>.allocate(capacity: names.count)
    let means = UnsafeMutableBufferPointer<Double>.allocate(capacity: names.count)
    defer { sums.deallocate(); totals.deallocate(); means.deallocate() }

    let stepper = DataParallelStepper(communicator: communicator)
    var history = FitHistory(metricNames: names + (validation == nil ? [] : ValidationMonitor.metricNames))
    var rng = SeededGenerator(seed: seed)
    var start = FitPosition(epoch: 1, step: 0, generator: rng.state, totals: Array(repeating: 0, count: names.count), seen: 0,
                            epochs: [], epochSeconds: [])
    if let resume = control.resume {
        guard resume.totals.count == names.count, resume.epochs.count == resume.epoch - 1, resume.epoch <= epochs + 1,
              resume.step < schedule.batchCount || resume.step == 0 else {
            throw TrainingError("\(phase): the saved position (epoch \(resume.epoch), step \(resume.step)) does not fit "
                + "\(epochs) epochs of \(schedule.batchCount) steps")
        }
        start = resume
        (history.epochs, history.epochSeconds) = (resume.epochs, resume.epochSeconds)
        rng = SeededGenerator(seed: resume.generator)
    }
    var stepsSinceSave = 0
    var stopping = false
    for epoch in stride(from: start.epoch, through: epochs, by: 1) {
        if validation?.stops == true { break }   // a resumed fit whose patience had run out
        let generatorAtStart = rng.state
        let order = epochPermutation(count: data.count, using: &rng)
        let resumed = epoch == start.epoch
        var seen = resumed ? start.seen : 0
        for i in 0..<names.count { totals[i] = resumed ? start.totals[i] : 0 }
        observer?.epochBegan(epoch: epoch, epochs: epochs, steps: schedule.batchCount)
        let started = DispatchTime.now().uptimeNanoseconds
        func position(step: Int) -> FitPosition {
            FitPosition(epoch: epoch, step: step, generator: generatorAtStart, totals: Array(totals), seen: seen,
                        epochs: history.epochs, epochSeconds: history.epochSeconds, best: validation?.best)
        }
        for b in (resumed ? start.step : 0)..<schedule.batchCount {
            let ids = order[schedule.rankRange(batch: b, rank: communicator.rank, size: communicator.size)]
            data.gather(ids, images: images.pointer, labels: labels)
            augmentation?.apply(images.pointer, sampleIDs: ids, epoch: epoch, height: data.height, width: data.width, channels: data.channels)
            let mix = augmentation?.mix(images.pointer, sampleIDs: ids, epoch: epoch, data: data, partnerLabels: partnerLabels, weights: mixWeights)
            let batch = LocalBatch(images: images.pointer, labels: labels, sampleIDs: ids,
                                   globalCount: schedule.globalRange(batch: b).count, seed: seed,
                                   step: (epoch - 1) * schedule.batchCount + b, epoch: epoch, epochs: epochs, mix: mix)
            stepper.step(step, batch: batch, sums: sums, vote: control.stopRequested() ? 1 : 0)
            seen += batch.globalCount
            for i in 0..<names.count {
                totals[i] += sums[i]
                means[i] = totals[i] / Double(seen)
            }
            if let bad = (0..<names.count).first(where: { !sums[$0].isFinite }) {
                throw TrainingError("\(phase): \(names[bad]) became \(sums[bad]) at epoch \(epoch), step \(b + 1); "
                    + "training stopped (try a lower --learning-rate)")
            }
            observer?.stepEnded(step: b + 1, steps: schedule.batchCount,
                                metrics: MetricSnapshot(names: names, values: UnsafeBufferPointer(means)))
            stepsSinceSave += 1
            stopping = sums[names.count] > 0
            guard b + 1 < schedule.batchCount else { break }   // the epoch's end saves (and stops) below
            if stopping || control.checkpointEvery.map({ stepsSinceSave >= $0 }) == true {
                try control.save?(position(step: b + 1))
                stepsSinceSave = 0
            }
            if stopping { throw TrainingStopped(phase: phase, position: position(step: b + 1)) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let row = Array(means) + (try validation?.epochEnded(epoch, model: step.model, communicator: communicator) ?? [])
        history.epochs.append(row)
        history.epochSeconds.append(seconds)
        row.withUnsafeBufferPointer {
            observer?.epochEnded(epoch: epoch, epochs: epochs, metrics: MetricSnapshot(names: history.metricNames, values: $0), seconds: seconds)
        }
        let next = FitPosition(epoch: epoch + 1, step: 0, generator: rng.state, totals: Array(repeating: 0, count: names.count),
                               seen: 0, epochs: history.epochs, epochSeconds: history.epochSeconds, best: validation?.best)
        try control.save?(next)
        stepsSinceSave = 0
        if stopping && epoch < epochs { throw TrainingStopped(phase: phase, position: next) }
    }
    history.restoredEpoch = validation?.finish(step.model)
    history.times = stepper.times
    return history
}
