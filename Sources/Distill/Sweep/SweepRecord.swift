/// What one finished run measured on its evaluation set (validation or test).
public struct SweepOutcome: Sendable, Equatable {
    public var accuracy: Double
    public var loss: Double
    public var seconds: Double

    public init(accuracy: Double, loss: Double, seconds: Double) { (self.accuracy, self.loss, self.seconds) = (accuracy, loss, seconds) }
}

/// A run that finished, where, and what it measured.
public struct SweepRecord: Sendable, Equatable {
    public var run: SweepRun
    public var outcome: SweepOutcome
    public var rank: Int

    public init(run: SweepRun, outcome: SweepOutcome, rank: Int) { (self.run, self.outcome, self.rank) = (run, outcome, rank) }
}
