import Collective
import Datasets
import NN

/// The Keras recipe's `Distiller`: trains `student` on
/// `alpha * studentLoss + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))`.
/// Only the student's weights change; the teacher's logits come from a `TeacherLogitsSource`.
public final class Distiller: LocalGradientStep {
    public let student: Sequential
    public let teacher: TeacherLogitsSource
    public let communicator: Communicator
    private let reducer: CommunicatorReducer
    public private(set) var optimizer = Adam()
    public private(set) var loss = DistillationLoss(alpha: 0.1, temperature: 10)
    let metricNames = ["student_loss", "distillation_loss", "accuracy"]
    var model: Sequential { student }

    private lazy var stepper = DataParallelStepper(communicator: communicator)
    private var stepSums = [Double](repeating: 0, count: 4)   // three metrics and the stop vote
    private var teacherLogits = FloatBuffer(count: 0)   // [maxBatch, classes]
    private var logitGradient = FloatBuffer(count: 0)   // [maxBatch, classes]

    /// Distils from a teacher that is run forward on every batch.
    public convenience init(student: Sequential, teacher: Sequential, communicator: Communicator) {
        self.init(student: student, teacherLogits: RunningTeacher(teacher), communicator: communicator)
    }

    /// Distils from any source of teacher logits, e.g. `CachedTeacherLogits`.
    public init(student: Sequential, teacherLogits: TeacherLogitsSource, communicator: Communicator) {
        self.student = student
        self.teacher = teacherLogits
        self.communicator = communicator
        reducer = CommunicatorReducer(communicator)
    }

    /// As Keras's `Distiller.compile`: the optimizer, the metrics (sparse categorical accuracy, the only
    /// one there is, always reported), the student loss (sparse categorical cross-entropy from logits),
    /// the distillation loss (`KLDivergence`), alpha in [0, 1] and temperature > 0.
    public func compile(
        optimizer: Adam, metrics: [Metric] = [.sparseCategoricalAccuracy],
        studentLoss: SparseCategoricalCrossentropy = .init(), distillationLoss: KLDivergence = .init(),
        alpha: Float = 0.1, temperature: Float = 10
    ) throws {
        guard (0...1).contains(alpha) else { throw TrainingError("alpha must be in [0, 1], got \(alpha)") }
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError("temperature must be a positive number, got \(temperature)")
        }
        self.optimizer = optimizer
        loss = DistillationLoss(alpha: alpha, temperature: temperature, studentLoss: studentLoss, divergence: distillationLoss)
    }

    func prepare(batchSizes: Set<Int>) {
        student.prepare(batchSizes: batchSizes)
        teacher.prepare(batchSizes: batchSizes)
    }

    func computeGradients(_ batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>) {
        let classes = student.outputSize
        let rows = student.maxBatch
        if logitGradient.count < rows * classes {
            teacherLogits = FloatBuffer(count: rows * classes)
            logitGradient = FloatBuffer(count: rows * classes)
        }
        // Both only allocate when they grow (a new loss from a second `compile` starts empty).
        teacher.reserve(maxBatch: rows)
        loss.reserve(rows: rows, classes: classes)
        teacher.logits(for: batch, into: teacherLogits.pointer)
        let logits = student.forward(batch.images, batch: batch.count, training: batch.trainingPass(reducer))
        let parts = loss(studentLogits: logits, teacherLogits: teacherLogits.pointer, labels: batch.labels,
                         rows: batch.count, classes: classes, gradient: logitGradient.pointer,
                         scale: 1 / Float(batch.globalCount))
        sums[0] = parts.student
        sums[1] = parts.distillation
        sums[2] = Double(correctCount(logits: logits, labels: batch.labels, rows: batch.count, classes: classes))
        student.backward(batch.images, outputGradient: logitGradient.pointer, batch: batch.count)
    }

    /// What one distillation step reports: global means over the step's batch.
    public struct StepReport: Equatable, Sendable {
        public var studentLoss: Double, distillationLoss: Double, accuracy: Double
    }

    /// One data-parallel step on this rank's slice of a global batch (every rank calls it with its
    /// own slice of the same batch): local forward and backward, one gradient allreduce, Adam.
    public func trainStep(_ batch: LocalBatch) -> StepReport {
        student.reserve(maxBatch: batch.count)
        stepSums.withUnsafeMutableBufferPointer { stepper.step(self, batch: batch, sums: $0) }
        let count = Double(max(batch.globalCount, 1))
        return StepReport(studentLoss: stepSums[0] / count, distillationLoss: stepSums[1] / count, accuracy: stepSums[2] / count)
    }

    public func fit(
        _ data: LabeledImages, epochs: Int, batchSize: Int, seed: UInt64, observer: TrainingObserver? = nil,
        control: FitControl = FitControl(), phase: String = "distillation"
    ) throws -> FitHistory {
        try runEpochs(self, data: data, epochs: epochs, batchSize: batchSize, seed: seed,
                      communicator: communicator, observer: observer, phase: phase, control: control)
    }

    /// The student's test loss (cross-entropy) and accuracy.
    public func evaluate(_ data: LabeledImages, batchSize: Int) throws -> Evaluation {
        try Evaluation.run(student, on: data, batchSize: batchSize, communicator: communicator)
    }
}

/// Metrics a distiller can report (Keras's `SparseCategoricalAccuracy`, the one the recipe uses).
public enum Metric: Sendable { case sparseCategoricalAccuracy }
