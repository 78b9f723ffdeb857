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

    public func last(_ name: String) -> Double? {
        guard let i = metricNames.firstIndex(of: name) else { return nil }
        return epochs.last?[i]
    }
}

/// The epoch loop every trainer shares: the same seeded permutation on every rank, global
/// batches split into contiguous rank slices, one step per global batch (even for a rank whose
/// slice is empty, so every rank takes every collective), running global means for progress.
func runEpochs(
    _ step: LocalGradientStep, data: LabeledImages, epochs: Int, batchSize: Int, seed: UInt64,
    communicator: Communicator, observer: TrainingObserver?, phase: String
) throws -> FitHistory {
    let schedule = BatchSchedule(sampleCount: data.count, batchSize: batchSize)
    // Buffers hold the largest rank slice; a batch larger than the data set is just one batch.
    let maxLocal = shardRange(total: min(batchSize, data.count), rank: 0, size: communicator.size).count
    step.prepare(batchSizes: schedule.localBatchSizes(rank: communicator.rank, size: communicator.size).union([maxLocal]))
    let images = FloatBuffer(count: maxLocal * data.sampleSize)
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: max(maxLocal, 1))
    defer { labels.deallocate() }
    let names = step.metricNames
    let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: names.count)
    let totals = UnsafeMutableBufferPointer<Double>.allocate(capacity: names.count)
    let means = UnsafeMutableBufferPointer<Double>.allocate(capacity: names.count)
    defer { sums.deallocate(); totals.deallocate(); means.deallocate() }

    let stepper = DataParallelStepper(communicator: communicator)
    var history = FitHistory(metricNames: names)
    var rng = SeededGenerator(seed: seed)
    for epoch in 1...epochs {
        let order = epochPermutation(count: data.count, using: &rng)
        observer?.epochBegan(epoch: epoch, epochs: epochs, steps: schedule.batchCount)
        let started = DispatchTime.now().uptimeNanoseconds
        totals.update(repeating: 0)
        var seen = 0
        for b in 0..<schedule.batchCount {
            let ids = order[schedule.rankRange(batch: b, rank: communicator.rank, size: communicator.size)]
            data.gather(ids, images: images.pointer, labels: labels)
            let batch = LocalBatch(images: images.pointer, labels: labels, sampleIDs: ids,
                                   globalCount: schedule.globalRange(batch: b).count)
            stepper.step(step, batch: batch, sums: sums)
            seen += batch.globalCount
            for i in 0..<names.count {
                totals[i] += sums[i]
                means[i] = totals[i] / Double(seen)
            }
            if let bad = sums.firstIndex(where: { !$0.isFinite }) {
                throw TrainingError("\(phase): \(names[bad]) became \(sums[bad]) at epoch \(epoch), step \(b + 1); "
                    + "training stopped (try a lower --learning-rate)")
            }
            observer?.stepEnded(step: b + 1, steps: schedule.batchCount,
                                metrics: MetricSnapshot(names: names, values: UnsafeBufferPointer(means)))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        history.epochs.append(Array(means))
        history.epochSeconds.append(seconds)
        observer?.epochEnded(epoch: epoch, epochs: epochs,
                             metrics: MetricSnapshot(names: names, values: UnsafeBufferPointer(means)), seconds: seconds)
    }
    history.times = stepper.times
    return history
}
