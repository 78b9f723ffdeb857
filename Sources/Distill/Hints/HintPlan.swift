import NN

/// The `--hint`s resolved against both models before the student is built: which layer of each holds the named
/// Keras layer's output, and the regressor that maps the student's output onto the teacher's shape:
/// none when the shapes are equal (Keras's `FeatureDistillation`), a 1 x 1 `Conv2D` with bias when two images
/// differ in channels only, a `Dense` when both are flat. Any other pair is a one-line error, before training.
public struct HintPlan {
    /// One model as the plan reads it: its name for messages, its layers' output shapes, and where each Keras layer's output is.
    public struct Side {
        public let role: String
        public let shapes: [[Int]]
        public let kerasOutputs: [String: Int]
        public let layerNames: [String]

        public init(role: String, plan: ModelPlan) {
            (self.role, shapes, kerasOutputs, layerNames) = (role, plan.layers.map(\.outputShape), plan.kerasOutputs, plan.layers.map(\.name))
        }

        public init(role: String, model: Sequential) {
            (self.role, shapes, layerNames) = (role, model.outputShapes, model.layerNames)
            kerasOutputs = model.kerasOutputs ?? [:]   // a model made in code: its layer names (`layer(_:hint:)`)
        }

        /// The layer holding `name`'s output; throws naming the model and a few of its layers.
        func layer(_ name: String, hint: HintSpecification) throws -> Int {
            // A Keras name gives its layer's output after the activation; `<name>_activation` (as `distill summary` lists it) is that part.
            guard let index = kerasOutputs[name] ?? layerNames.firstIndex(of: name) else {
                let known = layerNames.filter { !$0.hasSuffix("_activation") }
                let shown = known.prefix(12).joined(separator: ", ") + (known.count > 12 ? ", ... (\(known.count) in all)" : "")
                throw TrainingError("--hint '\(hint.canonical)': the \(role) has no layer '\(name)'; its layers: \(shown)")
            }
            guard index >= 0 else { throw TrainingError("--hint '\(hint.canonical)': '\(name)' is the \(role)'s input, not a layer's output") }
            return index
        }
    }

    public let hints: [HintSpecification]
    public let teacherLayers: [Int], studentLayers: [Int]
    /// Per hint, its regressor's index in `attached`; nil when the shapes match.
    public let regressors: [Int?]
    /// The regressors, for the student's `build(gemm:attached:)`: `hint_regressor`, `hint_regressor_1`, ...
    public let attached: [AttachedLayer]

    /// Per regressor, its weights and biases: (input channels or features + 1) x outputs.
    public let regressorSizes: [Int]

    /// "conv2d, 544 parameters": regressor `index`'s kind and size.
    public func regressorDescription(_ index: Int) -> String { "\(attached[index].layer.kind), \(regressorSizes[index]) parameters" }

    public init(_ hints: [HintSpecification], teacher: Side, student: Side, gemm: GEMMBackend) throws {
        var (teacherLayers, studentLayers, regressors, attached, sizes) = ([Int](), [Int](), [Int?](), [AttachedLayer](), [Int]())
        for hint in hints {
            let (t, s) = (try teacher.layer(hint.teacherLayer, hint: hint), try student.layer(hint.studentLayer, hint: hint))
            let (target, source) = (teacher.shapes[t], student.shapes[s])
            let regressor: Layer?
            func describe(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }
            let pair = "the teacher's '\(hint.teacherLayer)' gives \(describe(target)) and the student's '\(hint.studentLayer)' \(describe(source))"
            if target == source {
                regressor = nil
            } else if target.count == 3, source.count == 3 {
                guard target[0] == source[0], target[1] == source[1] else {
                    throw TrainingError("--hint '\(hint.canonical)': \(pair): their spatial sizes differ (a 1x1 regressor maps channels only); "
                        + "pick layers of the same height and width")
                }
                regressor = Conv2D(filters: target[2], kernelSize: (1, 1), gemm: gemm)
            } else if target.count == 1, source.count == 1 {
                regressor = Dense(units: target[0], gemm: gemm)
            } else {
                throw TrainingError("--hint '\(hint.canonical)': \(pair): a regressor maps an image to an image (HxWxC) or a vector to a "
                    + "vector; pick layers of the same kind")
            }
            if let regressor {
                regressors.append(attached.count)
                attached.append(AttachedLayer(name: attached.isEmpty ? "hint_regressor" : "hint_regressor_\(attached.count)", layer: regressor, reads: s))
                sizes.append((source.last! + 1) * target.last!)
            } else {
                regressors.append(nil)
            }
            teacherLayers.append(t)
            studentLayers.append(s)
        }
        (self.hints, self.teacherLayers, self.studentLayers, self.regressors, self.attached) = (hints, teacherLayers, studentLayers, regressors, attached)
        regressorSizes = sizes
    }
}
