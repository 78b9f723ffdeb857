/// What a distillation loss sees of one training step on this rank: both models' logits, the
/// labels, where the step is in the run (for warm-ups) and how to sum over the global batch (for a
/// loss over the whole batch, such as a correlation: every rank calls `reducer` alike, in the same order).
public struct LossBatch {
    public let student: UnsafePointer<Float>   // [rows, classes]
    public let teacher: UnsafePointer<Float>   // [rows, classes]
    public let labels: UnsafePointer<Int32>    // [rows]
    public let rows: Int, classes: Int
    /// Samples in the global batch: the loss is the mean over them.
    public let globalCount: Int
    /// This step's epoch, from 1, of `epochs`.
    public let epoch: Int, epochs: Int
    /// Sums over every rank's rows; nil sums this rank's alone (one process).
    public let reducer: BatchReducer?
    /// MixUp's partner labels and weights: every cross-entropy part mixes its labels alike; nil when not mixing.
    public let mix: LabelMix?

    public init(student: UnsafePointer<Float>, teacher: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int,
                globalCount: Int, epoch: Int = 1, epochs: Int = 1, reducer: BatchReducer? = nil, mix: LabelMix? = nil) {
        (self.student, self.teacher, self.labels, self.rows, self.classes) = (student, teacher, labels, rows, classes)
        (self.globalCount, self.epoch, self.epochs, self.reducer, self.mix) = (globalCount, epoch, epochs, reducer, mix)
    }
}

/// A distillation loss: the student's objective given the teacher's logits. A new loss is a class
/// conforming to this (its formula in its doc comment, its gradient tested by finite differences)
/// and one entry in the Distill module's `LossRegistry`.
public protocol DistillationObjective: AnyObject {
    /// The sums it reports, in order (e.g. `student_loss`, `distillation_loss`); shown per epoch as their means.
    var metricNames: [String] { get }
    /// Sizes its workspaces for `rows` samples (allocates only when it grows).
    func reserve(rows: Int, classes: Int)
    /// Writes this rank's sums into `sums` (one per metric name) and
    /// `gradient[rows, classes] = d(mean total loss over the global batch) / d(student logits)`.
    func compute(_ batch: LossBatch, gradient: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Double>)
}
