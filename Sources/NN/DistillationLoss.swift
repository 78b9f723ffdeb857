/// The distiller's objective, as the Keras recipe:
/// `total = alpha * studentLoss + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))`,
/// with `studentLoss` the sparse categorical cross-entropy of the student's logits.
/// Only the student's logits get a gradient; the teacher's are constants.
public final class DistillationLoss: DistillationObjective {
    public let metricNames = ["student_loss", "distillation_loss"]
    public let alpha: Float
    public let temperature: Float
    public let studentLoss: SparseCategoricalCrossentropy
    public let divergence: KLDivergence

    // Workspaces, each [maxRows, classes].
    private var teacherSoft = FloatBuffer(count: 0), studentSoft = FloatBuffer(count: 0)
    private var studentGradient = FloatBuffer(count: 0), divergenceGradient = FloatBuffer(count: 0)

    /// Sums over a batch: the plain student loss, the (T^2-scaled) distillation loss, and the total.
    public struct Sums: Equatable {
        public var student: Double, distillation: Double
        public var total: Double
    }

    public init(alpha: Float, temperature: Float,
                studentLoss: SparseCategoricalCrossentropy = .init(), divergence: KLDivergence = .init()) {
        self.alpha = alpha
        self.temperature = temperature
        self.studentLoss = studentLoss
        self.divergence = divergence
    }

    public func reserve(rows: Int, classes: Int) {
        let size = rows * classes
        guard teacherSoft.count < size else { return }
        teacherSoft = FloatBuffer(count: size)
        studentSoft = FloatBuffer(count: size)
        studentGradient = FloatBuffer(count: size)
        divergenceGradient = FloatBuffer(count: size)
    }

    /// Loss sums over `rows` samples; when `gradient` is non-nil writes
    /// `gradient = scale * d total_r / d studentLogits` (pass `scale = 1 / globalCount` for the mean).
    public func callAsFunction(
        studentLogits: UnsafePointer<Float>, teacherLogits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
        rows: Int, classes: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> Sums {
        precondition(rows * classes <= teacherSoft.count, "reserve(rows:classes:) before use")
        let t2 = temperature * temperature
        let student = studentLoss(logits: studentLogits, labels: labels, rows: rows, classes: classes,
                                  gradient: gradient == nil ? nil : studentGradient.pointer, scale: scale)
        softmax(teacherLogits, temperature: temperature, into: teacherSoft.pointer, rows: rows, classes: classes)
        softmax(studentLogits, temperature: temperature, into: studentSoft.pointer, rows: rows, classes: classes)
        let kl = divergence(teacherProbabilities: teacherSoft.pointer, studentProbabilities: studentSoft.pointer,
                            temperature: temperature, rows: rows, classes: classes,
                            gradient: gradient == nil ? nil : divergenceGradient.pointer, scale: scale)
        if let gradient {
            let a = alpha, b = (1 - alpha) * t2
            for i in 0..<rows * classes {
                gradient[i] = a * studentGradient.pointer[i] + b * divergenceGradient.pointer[i]
            }
        }
        let distillation = Double(t2) * kl
        return Sums(student: student, distillation: distillation,
                    total: Double(alpha) * student + Double(1 - alpha) * distillation)
    }

    public func compute(_ batch: LossBatch, gradient: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Double>) {
        let parts = self(studentLogits: batch.student, teacherLogits: batch.teacher, labels: batch.labels, rows: batch.rows,
                         classes: batch.classes, gradient: gradient, scale: 1 / Float(batch.globalCount))
        sums[0] = parts.student
        sums[1] = parts.distillation
    }
}
