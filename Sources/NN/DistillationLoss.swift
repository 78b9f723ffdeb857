/// The distiller's objective, as the Keras recipe:
/// `total = alpha * studentLoss + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))`,
/// with `studentLoss` the sparse categorical cross-entropy of the student's logits.
/// Only the student's logits get a gradient; the teacher's are constants.
///
/// With `standardize` (Sun et al., CVPR 2024, "Logit Standardization in Knowledge Distillation"),
/// the KL term sees each sample's logits z-scored first, `(z - mean(z)) / (1e-7 + std(z))`, both the
/// teacher's and the student's, with the authors' code's `std` (PyTorch's default, unbiased: over C - 1)
/// and their `T^2`; the cross-entropy keeps the raw logits. The gradient goes back through the z-score:
/// `dz = (g - mean(g)) / (s + e) - (sum_i g_i (z_i - m)) (z - m) / ((s + e)^2 (C - 1) s)`.
public final class DistillationLoss: DistillationObjective {
    public let metricNames = ["student_loss", "distillation_loss"]
    public let alpha: Float
    public let temperature: Float
    public let studentLoss: SparseCategoricalCrossentropy
    public let divergence: KLDivergence
    public let standardize: Bool

    // Workspaces, each [maxRows, classes].
    private var teacherSoft = FloatBuffer(count: 0), studentSoft = FloatBuffer(count: 0)
    private var studentGradient = FloatBuffer(count: 0), divergenceGradient = FloatBuffer(count: 0)
    private var teacherStandard = FloatBuffer(count: 0), studentStandard = FloatBuffer(count: 0)   // with `standardize`

    /// Sums over a batch: the plain student loss, the (T^2-scaled) distillation loss, and the total.
    public struct Sums: Equatable {
        public var student: Double, distillation: Double
        public var total: Double
    }

    public init(alpha: Float, temperature: Float,
                studentLoss: SparseCategoricalCrossentropy = .init(), divergence: KLDivergence = .init(), standardize: Bool = false) {
        self.standardize = standardize
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
        if standardize { (teacherStandard, studentStandard) = (FloatBuffer(count: size), FloatBuffer(count: size)) }
    }

    /// Loss sums over `rows` samples; when `gradient` is non-nil writes
    /// `gradient = scale * d total_r / d studentLogits` (pass `scale = 1 / globalCount` for the mean).
    /// With `mix` (MixUp) the student loss is the mixed labels' cross-entropy; the KL term is unchanged.
    public func callAsFunction(
        studentLogits: UnsafePointer<Float>, teacherLogits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, mix: LabelMix? = nil,
        rows: Int, classes: Int, gradient: UnsafeMutablePointer<Float>?, scale: Float
    ) -> Sums {
        precondition(rows * classes <= teacherSoft.count, "reserve(rows:classes:) before use")
        let t2 = temperature * temperature
        let student = studentLoss(logits: studentLogits, labels: labels, mix: mix, rows: rows, classes: classes,
                                  gradient: gradient == nil ? nil : studentGradient.pointer, scale: scale)
        var (teacherIn, studentIn) = (teacherLogits, studentLogits)
        if standardize {
            Self.standardize(teacherLogits, into: teacherStandard.pointer, rows: rows, classes: classes)
            Self.standardize(studentLogits, into: studentStandard.pointer, rows: rows, classes: classes)
            (teacherIn, studentIn) = (UnsafePointer(teacherStandard.pointer), UnsafePointer(studentStandard.pointer))
        }
        softmax(teacherIn, temperature: temperature, into: teacherSoft.pointer, rows: rows, classes: classes)
        softmax(studentIn, temperature: temperature, into: studentSoft.pointer, rows: rows, classes: classes)
        let kl = divergence(teacherProbabilities: teacherSoft.pointer, studentProbabilities: studentSoft.pointer,
                            temperature: temperature, rows: rows, classes: classes,
                            gradient: gradient == nil ? nil : divergenceGradient.pointer, scale: scale)
        if gradient != nil, standardize {
            Self.backThroughStandardization(studentLogits, gradient: divergenceGradient.pointer, rows: rows, classes: classes)
        }
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

    static let standardEpsilon = 1e-7

    /// Each row's `(z - mean) / (1e-7 + std)`, std over C - 1, in Double.
    public static func standardize(_ z: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, classes: Int) {
        for row in 0..<rows {
            let (m, s) = moments(z + row * classes, classes)
            for j in 0..<classes { y[row * classes + j] = Float((Double(z[row * classes + j]) - m) / (standardEpsilon + s)) }
        }
    }

    /// Replaces `gradient` (with respect to the standardised logits) by the gradient with respect to `z`.
    public static func backThroughStandardization(_ z: UnsafePointer<Float>, gradient g: UnsafeMutablePointer<Float>, rows: Int, classes: Int) {
        for row in 0..<rows {
            let x = z + row * classes, d = g + row * classes
            let (m, s) = moments(x, classes)
            let mean = (0..<classes).reduce(0.0) { $0 + Double(d[$1]) } / Double(classes)
            let along = (0..<classes).reduce(0.0) { $0 + Double(d[$1]) * (Double(x[$1]) - m) }
            let spread = s > 0 ? along / ((standardEpsilon + s) * (standardEpsilon + s) * Double(classes - 1) * s) : 0
            for j in 0..<classes { d[j] = Float((Double(d[j]) - mean) / (standardEpsilon + s) - spread * (Double(x[j]) - m)) }
        }
    }

    /// A row's mean and unbiased standard deviation.
    private static func moments(_ z: UnsafePointer<Float>, _ classes: Int) -> (mean: Double, std: Double) {
        let m = (0..<classes).reduce(0.0) { $0 + Double(z[$1]) } / Double(classes)
        let v = (0..<classes).reduce(0.0) { $0 + (Double(z[$1]) - m) * (Double(z[$1]) - m) } / Double(max(classes - 1, 1))
        return (m, v.squareRoot())
    }

    public func compute(_ batch: LossBatch, gradient: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Double>) {
        let parts = self(studentLogits: batch.student, teacherLogits: batch.teacher, labels: batch.labels, mix: batch.mix, rows: batch.rows,
                         classes: batch.classes, gradient: gradient, scale: 1 / Float(batch.globalCount))
        sums[0] = parts.student
        sums[1] = parts.distillation
    }
}
