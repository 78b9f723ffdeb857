import NN

/// FitNets' hints (Romero et al., ICLR 2015) as a term added to a distillation loss: for each hint k, the
/// teacher's layer output `t` (inference mode, on the view the student sees) and the student's `s` through a
/// learned regressor `r` (`HintPlan`), `L_k = w_k * mean over the global batch of mean over elements of (r(s) - t)^2`,
/// Keras's `mean_squared_error` as its `FeatureDistillation` reduces it. Its gradient flows into the regressor's
/// weights (attached to the student, trained by the same optimizer) and into the student below its layer.
/// With `hintEpochs` N > 0, FitNets' two stages: epochs 1...N train on the hints alone, the later ones on the
/// distillation loss alone; every term is reported in every epoch.
public final class FeatureHints {
    public let plan: HintPlan
    public let teacher: Sequential
    public let hintEpochs: Int
    private let student: Sequential
    private let deepest: Int                       // the teacher runs layers 0...deepest
    private var regressed: [FloatBuffer] = []     // per hint with a regressor: r(s) [maxBatch, teacher layer]
    private var differences: [FloatBuffer] = []   // per hint: dL/d(r(s)) [maxBatch, teacher layer]
    private var studentGradients: [FloatBuffer?] = []   // per hint with a regressor: dL/ds [maxBatch, student layer]
    private var rows = 0
    /// The gradients for the student's backward, inner layers' (`Sequential.backward(adding:)`) and the output layer's, fixed per reserve.
    private(set) var innerGradients: [(layer: Int, gradient: UnsafePointer<Float>)] = []
    private(set) var outputGradients: [UnsafePointer<Float>] = []

    /// `student` was built with `plan.attached`; `teacher` is the model the plan was resolved against.
    public init(plan: HintPlan, teacher: Sequential, student: Sequential, hintEpochs: Int = 0) {
        precondition(student.attached.count == plan.attached.count, "the student carries the plan's regressors")
        (self.plan, self.teacher, self.student, self.hintEpochs) = (plan, teacher, student, hintEpochs)
        deepest = plan.teacherLayers.max() ?? 0
        // A hinted BatchNormalization's own output is read (and given a gradient): not fused with its activation.
        for layer in plan.teacherLayers { teacher.keepOutput(ofLayer: layer) }
        for layer in plan.studentLayers { student.keepOutput(ofLayer: layer) }
    }

    /// What a step of `epoch` trains on: both terms, the hints alone (FitNets' first stage) or the distillation loss alone.
    public enum Stage { case joint, hintsOnly, distillationOnly }

    public func stage(epoch: Int) -> Stage { hintEpochs == 0 ? .joint : epoch <= hintEpochs ? .hintsOnly : .distillationOnly }

    public func reserve(maxBatch: Int) {
        teacher.reserve(maxBatch: maxBatch)
        guard maxBatch > rows else { return }
        rows = maxBatch
        let targets = plan.teacherLayers.map { teacher.outputShapes[$0].reduce(1, *) }
        differences = targets.map { FloatBuffer(count: maxBatch * $0) }
        regressed = plan.attached.indices.map { FloatBuffer(count: maxBatch * student.attachedShapes[$0].reduce(1, *)) }
        studentGradients = zip(plan.regressors, plan.studentLayers).map { regressor, layer in
            regressor.map { _ in FloatBuffer(count: maxBatch * student.outputShapes[layer].reduce(1, *)) }
        }
        let last = student.layers.count - 1
        let gradients = plan.studentLayers.indices.map { (plan.studentLayers[$0], UnsafePointer((studentGradients[$0] ?? differences[$0]).pointer)) }
        innerGradients = gradients.filter { $0.0 < last }.map { (layer: $0.0, gradient: $0.1) }
        outputGradients = gradients.filter { $0.0 == last }.map(\.1)
    }

    public func prepare(batchSizes: Set<Int>) { teacher.prepare(batchSizes: batchSizes) }

    /// After the student's forward on this step's batch: runs the teacher to its deepest hinted layer on `images`
    /// (the student's view; skipped when `teacherRan`, the same teacher having just run whole on them) and each
    /// regressor; returns this rank's sum of the weighted per-sample losses. With `train`, also adds the regressors'
    /// gradients and writes each hinted student layer's output gradient (`innerGradients`, `outputGradients`).
    public func compute(images: UnsafePointer<Float>, rows count: Int, globalCount: Int, teacherRan: Bool, train: Bool) -> Double {
        precondition(count <= rows, "reserve(maxBatch:) first")
        if !teacherRan { teacher.forward(images, batch: count, through: deepest) }
        var total = 0.0
        for k in plan.hints.indices {
            let source = student.output(ofLayer: plan.studentLayers[k])
            let target = teacher.output(ofLayer: plan.teacherLayers[k])
            let regressor = plan.regressors[k].map { student.attached[$0].layer }
            let output: UnsafePointer<Float>
            if let regressor, let index = plan.regressors[k] {
                regressor.forward(input: source, output: regressed[index].pointer, batch: count)
                output = UnsafePointer(regressed[index].pointer)
            } else {
                output = source
            }
            let elements = teacher.outputShapes[plan.teacherLayers[k]].reduce(1, *)
            let weight = plan.hints[k].weight
            let scale = 2 * weight / Float(elements * Swift.max(globalCount, 1))
            let difference = differences[k].pointer
            for n in 0..<count {
                var squares = 0.0
                for e in n * elements..<(n + 1) * elements {
                    let d = output[e] - target[e]
                    squares += Double(d * d)
                    difference[e] = scale * d
                }
                total += Double(weight) * squares / Double(elements)
            }
            if train, let regressor, let index = plan.regressors[k] {
                regressor.backward(outputGradient: difference, inputGradient: studentGradients[k]!.pointer, input: source,
                                   output: regressed[index].pointer, batch: count)
            }
        }
        return total
    }
}
