import Collective

/// A sweep stopped on request between rounds; every finished run is recorded.
public struct SweepStopped: Error, CustomStringConvertible {
    /// Runs of the sweep not trained yet (of the stage it stopped in).
    public let remaining: Int

    public init(remaining: Int) { self.remaining = remaining }

    public var description: String { "the sweep stopped on request with \(remaining) run\(remaining == 1 ? "" : "s") left" }
}

/// Trains `runs` across the ranks by whole run (`RunAssignment`): each rank trains its run of the
/// round alone, then one allreduce gathers every rank's outcome (and stop vote) on every rank, and
/// `finished` sees the round's records in rank order (rank 0 writes them). A round's gather is also
/// the collective the watchdog watches, so a rank that dies or stalls is reported within the timeout
/// after the round's slowest run. A stop requested on any rank ends the sweep after its round.
/// Returns whether a stop was requested in the last round (every run done): the next stage must not start.
@discardableResult
public func trainAcrossRanks(
    _ runs: [SweepRun], communicator: Communicator, stopRequested: () -> Bool,
    train: (SweepRun) throws -> SweepOutcome, finished: ([SweepRecord]) throws -> Void
) throws -> Bool {
    let assignment = RunAssignment(costs: runs.map(\.cost), size: communicator.size)
    let fields = 6   // trained (1 or 0), accuracy, loss, seconds, agreement, calibration error (NaN: not measured)
    var gathered = [Double](repeating: 0, count: communicator.size * fields + 1)   // + the stop votes
    var done = 0
    for round in 0..<assignment.roundCount {
        for i in gathered.indices { gathered[i] = 0 }
        if let index = assignment.run(round: round, rank: communicator.rank) {
            let outcome = try train(runs[index])
            let slot = communicator.rank * fields
            (gathered[slot], gathered[slot + 1], gathered[slot + 2], gathered[slot + 3]) = (1, outcome.accuracy, outcome.loss, outcome.seconds)
            (gathered[slot + 4], gathered[slot + 5]) = (outcome.agreement ?? .nan, outcome.calibrationError ?? .nan)
        }
        gathered[communicator.size * fields] = stopRequested() ? 1 : 0
        communicator.allreduceSum(&gathered)
        var records: [SweepRecord] = []
        for rank in 0..<communicator.size {
            guard let index = assignment.run(round: round, rank: rank) else { continue }
            let slot = rank * fields
            guard gathered[slot] == 1 else { throw TrainingError("rank \(rank) did not report its run (\(runs[index].label))") }
            func measured(_ value: Double) -> Double? { value.isNaN ? nil : value }
            let outcome = SweepOutcome(accuracy: gathered[slot + 1], loss: gathered[slot + 2], seconds: gathered[slot + 3],
                                       agreement: measured(gathered[slot + 4]), calibrationError: measured(gathered[slot + 5]))
            records.append(SweepRecord(run: runs[index], outcome: outcome, rank: rank))
        }
        done += records.count
        try finished(records)
        if gathered[communicator.size * fields] > 0 {
            guard done == runs.count else { throw SweepStopped(remaining: runs.count - done) }
            return true
        }
    }
    return false
}
