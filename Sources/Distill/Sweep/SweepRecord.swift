/// What one finished run measured on its evaluation set (validation or test).
public struct SweepOutcome: Sendable, Equatable {
    public var accuracy: Double
    public var loss: Double
    public var seconds: Double
    /// Top-1 agreement with the teacher and expected calibration error (`PredictionFigures`); nil where
    /// not measured (a CSV row written before they were, the test set of a teacher given only as training logits).
    public var agreement: Double?
    public var calibrationError: Double?

    public init(accuracy: Double, loss: Double, seconds: Double, agreement: Double? = nil, calibrationError: Double? = nil) {
        (self.accuracy, self.loss, self.seconds) = (accuracy, loss, seconds)
        (self.agreement, self.calibrationError) = (agreement, calibrationError)
    }
}

/// A run that finished, where, and what it measured.
public struct SweepRecord: Sendable, Equatable {
    public var run: SweepRun
    public var outcome: SweepOutcome
    public var rank: Int

    public init(run: SweepRun, outcome: SweepOutcome, rank: Int) { (self.run, self.outcome, self.rank) = (run, outcome, rank) }
}
