import Collective
import Datasets
import NN

/// Where a student's teacher comes from.
public enum TeacherSource: Sendable {
    /// A teacher checkpoint: its logits computed once, data-parallel, or with `cacheLogits` reused
    /// from (and kept in) `<path>.logits.safetensors` while the teacher and data match.
    case checkpoint(String, cacheLogits: Bool)
    /// Logits computed elsewhere (safetensors or .npy), row i for training sample i.
    case logitsFile(String)
    /// Several teachers (checkpoints or logits files), each loaded as above, combined by weight.
    indirect case ensemble([TeacherSource], weights: [Double], combination: LogitCombination)
}

/// The data, checked alike on every rank together with the settings and the teacher, and what the teacher gives.
public struct LoadedTeacher {
    public var train: LabeledImages
    public var test: LabeledImages
    /// The teacher's logits for every training sample; nil when a running teacher was asked for.
    public var logits: CachedTeacherLogits?
    /// The checkpoint's teacher (every rank holds rank 0's weights); nil for a logits file.
    public var model: Sequential?
    public var description: ModelDescription?
    /// One line naming the teacher, for logs and reports.
    public var summary: String
    /// Several teachers: each member's model (nil for a logits file), the weights and the combination, so
    /// other sets (the test set) can be combined as the training logits were.
    public var ensemble: (members: [Sequential?], weights: [Double], combination: LogitCombination)?

    /// The teacher's logits of `data` where its models are known (one checkpoint, or an ensemble of checkpoints),
    /// computed data-parallel and combined as the training logits were; nil otherwise.
    public func logits(of data: LabeledImages, communicator: Communicator) -> CachedTeacherLogits? {
        if let model { return CachedTeacherLogits.compute(teacher: model, data: data, communicator: communicator) }
        guard let ensemble, ensemble.members.allSatisfy({ $0 != nil }) else { return nil }
        let tables = ensemble.members.map { CachedTeacherLogits.compute(teacher: $0!, data: data, communicator: communicator) }
        return ensemble.combination.combine(tables, weights: ensemble.weights)
    }
}

extension TeacherSource {
    /// Loads the data and the teacher, the ranks agreeing on both and on `items`; `computeLogits`
    /// false leaves the logits to a running teacher. The student of `settings` is checked against both.
    public func load(data: DataSource, settings: RecipeSettings, context: JobContext, agreeing items: [(name: String, hash: UInt64)],
                     computeLogits: Bool = true) throws -> LoadedTeacher {
        switch self {
        case let .ensemble(members, weights, combination):
            return try loadEnsemble(members, weights: weights, combination: combination, data: data, settings: settings, context: context,
                                    agreeing: items, computeLogits: computeLogits)
        case let .logitsFile(path):
            let (train, test) = try data.load(on: context.communicator, agreeing: items)
            try context.recipe(settings, train: train, test: test).checkModels([.student])
            let classes = try settings.studentModel.plan().outputSize
            let logits = try TeacherLogitsFile.loadExternal(from: path, count: train.count, classes: classes)
            try context.communicator.checkAgreement([("the teacher logits file \(path)", logits.fingerprint)])
            return LoadedTeacher(train: train, test: test, logits: logits, model: nil, description: nil,
                                 summary: "logits from \(path), \(train.count) x \(classes)", ensemble: nil)
        case let .checkpoint(path, cacheLogits):
            let loaded = try Checkpoint.load(from: path, expecting: .teacher, gemm: context.gemm)
            let (train, test) = try data.load(on: context.communicator, agreeing: items + [
                ("the teacher file \(path) (\(loaded.summary))", loaded.description.contentHash ^ Fingerprint.parameters(loaded.model)),
            ])
            // Every rank uses rank 0's copy of the teacher.
            context.communicator.broadcast(loaded.model.parameters.values.buffer, root: 0)
            var teacherSettings = settings
            teacherSettings.teacherModel = loaded.description
            let recipe = context.recipe(teacherSettings, train: train, test: test)
            try recipe.checkModels([.student], teacher: loaded.model)
            let logits = computeLogits
                ? try teacherLogits(loaded.model, teacherPath: cacheLogits ? path : nil, recipe: recipe, context: context) : nil
            return LoadedTeacher(train: train, test: test, logits: logits, model: loaded.model, description: loaded.description,
                                 summary: "\(path) (\(loaded.description.name), \(loaded.model.parameterCount) parameters)", ensemble: nil)
        }
    }
}
