/// Where a fit stands between two steps: with the weights and the optimizer's state, all it needs to go
/// on exactly as if it had never stopped.
public struct FitPosition: Sendable, Equatable {
    /// The epoch in progress, from 1 (`epochs + 1` once every epoch is done).
    public var epoch: Int
    /// Steps of that epoch already taken.
    public var step: Int
    /// The shuffling generator's state before that epoch's permutation was drawn.
    public var generator: UInt64
    /// That epoch's metric sums so far, and the samples they cover.
    public var totals: [Double]
    public var seen: Int
    /// Finished epochs: their metric means and seconds.
    public var epochs: [[Double]]
    public var epochSeconds: [Double]
    /// With a validation split: the best finished epoch so far (its weights are the state's).
    public var best: ValidationMonitor.BestEpoch?

    public init(epoch: Int, step: Int, generator: UInt64, totals: [Double], seen: Int, epochs: [[Double]], epochSeconds: [Double],
                best: ValidationMonitor.BestEpoch? = nil) {
        (self.epoch, self.step, self.generator, self.totals, self.seen) = (epoch, step, generator, totals, seen)
        (self.epochs, self.epochSeconds, self.best) = (epochs, epochSeconds, best)
    }
}

/// How a fit saves and stops. `save` runs on every rank at the same step boundaries: every
/// `checkpointEvery` steps, at the end of each epoch, and when a stop was requested; a stop
/// requested on any rank (`stopRequested`, e.g. after SIGTERM) reaches all of them through the
/// step's own metric allreduce, and the fit then throws `TrainingStopped` after saving.
public struct FitControl {
    public var checkpointEvery: Int?
    public var save: ((FitPosition) throws -> Void)?
    public var stopRequested: () -> Bool
    /// Continue from here instead of the start.
    public var resume: FitPosition?

    public init(checkpointEvery: Int? = nil, save: ((FitPosition) throws -> Void)? = nil,
                stopRequested: @escaping () -> Bool = { false }, resume: FitPosition? = nil) {
        (self.checkpointEvery, self.save, self.stopRequested, self.resume) = (checkpointEvery, save, stopRequested, resume)
    }
}

/// A fit that stopped on request at a step boundary, after saving `position`.
public struct TrainingStopped: Error, CustomStringConvertible {
    public let phase: String
    public let position: FitPosition
    public var description: String { "\(phase) stopped on request at epoch \(position.epoch), step \(position.step)" }
}
