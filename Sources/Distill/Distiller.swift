import Collective
import Datasets
import NN

/// The Keras recipe's `Distiller`: trains `student` on a distillation loss, by default
/// `alpha * studentLoss + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))`.
/// Only the student's weights change; the teacher's logits come from a `TeacherLogitsSource`. A student
/// whose model starts with augmentation layers (its leading chain) runs them first, and the teacher is run
/// on their output: the very view the rest of the student trains on. `hints` adds FitNets' feature hints.
public final class Distiller: LocalGradientStep {
    public let student: Sequential
    public let teacher: TeacherLogitsSource
    public let communicator: Communicator
    private let reducer: CommunicatorReducer
    private let teacherPart: String   // the profile's name for the teacher-logit part of a step
    private let viewLayers: Int       // the student's leading augmentation chain (layers 0..<viewLayers); 0 none
    public private(set) var optimizer: Optimizer = Adam()
    public private(set) var loss: DistillationObjective = DistillationLoss(alpha: 0.1, temperature: 10)
    /// The loss's sums, then accuracy.
    public private(set) var metricNames = ["student_loss", "distillation_loss", "accuracy"]
    public var model: Sequential { student }
    /// Feature hints trained with the loss (their regressors attached to the student); nil: none.
    public var hints: FeatureHints? { didSet { nameMetrics() } }

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
        teacherPart = teacherLogits is CachedTeacherLogits ? "teacher logits (cached)" : "teacher logits (teacher forward)"
        viewLayers = student.leadingAugmentationCount
    }

    /// As Keras's `Distiller.compile`: the optimizer, the student loss (sparse categorical
    /// cross-entropy from logits), the distillation loss (`KLDivergence`), alpha in [0, 1] and
    /// temperature > 0; sparse categorical accuracy is always reported.
    public func compile(
        optimizer: Optimizer,
        studentLoss: SparseCategoricalCrossentropy = .init(), distillationLoss: KLDivergence = .init(),
        alpha: Float = 0.1, temperature: Float = 10
    ) throws {
        try SettingRanges.alpha(alpha, name: "alpha")
        try SettingRanges.temperature(temperature, name: "temperature")
        compile(optimizer: optimizer,
                loss: DistillationLoss(alpha: alpha, temperature: temperature, studentLoss: studentLoss, divergence: distillationLoss))
    }

    /// Any distillation loss (`LossRegistry.make`); sparse categorical accuracy is always reported.
    public func compile(optimizer: Optimizer, loss: DistillationObjective) {
        self.optimizer = optimizer
        self.loss = loss
        nameMetrics()
    }

    /// The loss's sums, the hints' (with hints), then accuracy; stored, so a step reads them without building an array.
    private func nameMetrics() { metricNames = loss.metricNames + (hints == nil ? [] : ["hint_loss"]) + ["accuracy"] }

    public func prepare(batchSizes: Set<Int>) {
        student.prepare(batchSizes: batchSizes)
        teacher.prepare(batchSizes: batchSizes)
        hints?.prepare(batchSizes: batchSizes)
    }

    public func computeGradients(_ batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>, clock: StepClock?) {
        let classes = student.outputSize
        let rows = student.maxBatch
        if logitGradient.count < rows * classes {
            teacherLogits = FloatBuffer(count: rows * classes)
            logitGradient = FloatBuffer(count: rows * classes)
        }
        // Both only allocate when they grow (a new loss from a second `compile` starts empty).
        teacher.reserve(maxBatch: rows)
        loss.reserve(rows: rows, classes: classes)
        hints?.reserve(maxBatch: rows)
        let logits: UnsafeMutablePointer<Float>
        let view: LocalBatch
        if viewLayers == 0 {
            view = batch
            timed(clock, teacherPart) { teacher.logits(for: batch, into: teacherLogits.pointer) }
            logits = student.forward(batch.images, batch: batch.count, training: batch.trainingPass(reducer))
        } else {   // the teacher sees the view the student's leading augmentation made in this forward
            logits = student.forward(batch.images, batch: batch.count, training: batch.trainingPass(reducer))
            view = batch.with(images: student.output(ofLayer: viewLayers - 1))
            timed(clock, teacherPart) { teacher.logits(for: view, into: teacherLogits.pointer) }
        }
        let losses = loss.metricNames.count
        timed(clock, "distillation loss + accuracy") {
            loss.compute(LossBatch(student: logits, teacher: teacherLogits.pointer, labels: batch.labels, rows: batch.count, classes: classes,
                                   globalCount: batch.globalCount, epoch: batch.epoch, epochs: batch.epochs, reducer: reducer, mix: batch.mix),
                         gradient: logitGradient.pointer, sums: UnsafeMutableBufferPointer(rebasing: sums[..<losses]))
            sums[metricNames.count - 1] = Double(correctCount(logits: logits, labels: batch.labels, mix: batch.mix, rows: batch.count, classes: classes))
        }
        guard let hints else {
            student.backward(batch.images, outputGradient: logitGradient.pointer, batch: batch.count)
            return
        }
        let stage = hints.stage(epoch: batch.epoch)
        timed(clock, "hints (teacher forward to the layer, regressors)") {
            let teacherRan = (teacher as? RunningTeacher)?.teacher === hints.teacher
            sums[losses] = hints.compute(images: view.images, rows: batch.count, globalCount: batch.globalCount, teacherRan: teacherRan,
                                         train: stage != .distillationOnly)
        }
        let gradient = logitGradient.pointer
        if stage == .hintsOnly { gradient.update(repeating: 0, count: batch.count * classes) }
        if stage != .distillationOnly {
            for added in hints.outputGradients { for k in 0..<batch.count * classes { gradient[k] += added[k] } }
        }
        student.backward(batch.images, outputGradient: gradient, batch: batch.count, adding: stage == .distillationOnly ? [] : hints.innerGradients)
    }
}
