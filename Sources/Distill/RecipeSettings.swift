import NN

/// The knobs of the distillation recipe; the defaults are the Keras example's.
public struct RecipeSettings: Sendable {
    /// The models, as Keras JSON (a preset's, or a file's).
    public var teacherModel = Architecture.keras.description(.teacher)
    public var studentModel = Architecture.keras.description(.student)
    public var teacherEpochs = 5
    public var studentEpochs = 3
    public var batchSize = 32
    /// The students' (and, unless `teacherRule` says otherwise, the teacher's) learning rate, optimizer and schedule.
    public var learningRate: Float = 0.001
    public var optimizer = OptimizerRegistry.defaultName
    public var schedule = ScheduleRegistry.defaultName
    /// The teacher's own rule, where it trains otherwise than the students (nil: as they do).
    public var teacherRule: TrainingRule?
    /// Data-side augmentation of every phase's training images (`AugmentSpecification`, canonical; "" none),
    /// and the teacher's own where it differs.
    public var augment = AugmentSpecification.none
    public var teacherAugment: String?
    /// The seed of the augmentation draws where it is kept apart from `seed` (nil: derived from `seed`), so students of
    /// other initial weights see the same views and share the view cache's tables.
    public var augmentSeed: UInt64?
    /// Held out of the training set (class-balanced, the sweep's split) and evaluated after each epoch; 0 none.
    public var validationFraction = 0.0
    /// Keep each phase's best epoch on the validation split (`restoreBest`), or stop once `patience` epochs have not improved.
    public var restoreBest = false
    public var monitor = ValidationMonitor.Quantity.loss
    public var patience: Int?
    public var alpha: Float = 0.1
    public var temperature: Float = 10
    public var seed: UInt64 = 42
    /// The distillation loss, as `LossRegistry` resolves it (canonical: defaults left out).
    public var loss = LossRegistry.defaultName
    /// Feature hints of the distilled student (`--hint`), and its FitNets stage: the first `hintEpochs` epochs on hints alone.
    public var hints: [HintSpecification] = []
    public var hintEpochs = 0

    public init() {}

    /// Every setting that affects training, for checking that all ranks were given the same.
    public var summary: String {
        "teacher model \(teacherModel.name) #\(hex(teacherModel.contentHash)), "
            + "student model \(studentModel.name) #\(hex(studentModel.contentHash)), teacher epochs \(teacherEpochs), student epochs \(studentEpochs), "
            + "batch \(batchSize), learning rate \(learningRate), alpha \(alpha), temperature \(temperature), seed \(seed)"
            + nonDefault
    }

    /// The settings added since the summary's first form, each only when it is not its default, so a
    /// state or model written before it (or with the default) keeps its summary and stays valid.
    var nonDefault: String {
        (loss == LossRegistry.defaultName ? "" : ", loss \(loss)")
            + (optimizer == OptimizerRegistry.defaultName ? "" : ", optimizer \(optimizer)")
            + (schedule == ScheduleRegistry.defaultName ? "" : ", schedule \(schedule)")
            + (teacherRule.map { ", teacher \($0.description)" } ?? "")
            + (augment == AugmentSpecification.none ? "" : ", augment \(augment)")
            + (teacherAugment.map { ", teacher augment \($0.isEmpty ? "none" : $0)" } ?? "")
            + (augmentSeed.map { ", augment seed \($0)" } ?? "")
            + (validationFraction == 0 ? "" : ", validation fraction \(validationFraction)")
            + (restoreBest ? ", restore best \(monitor.rawValue)" : "")
            + (patience.map { ", patience \($0) on \(monitor.rawValue)" } ?? "")
            + (hints.isEmpty ? "" : ", hints \(hints.map(\.canonical).joined(separator: " "))")
            + (hintEpochs == 0 ? "" : ", hint epochs \(hintEpochs)")
    }

    /// The hints resolved against the teacher's model and the student's (names, shapes and regressors); nil without
    /// hints; a one-line error when they cannot work, `teacher` nil meaning there is no teacher model (logits alone).
    public func hintPlan(teacher: HintPlan.Side?, gemm: GEMMBackend) throws -> HintPlan? {
        guard !hints.isEmpty || hintEpochs > 0 else { return nil }
        guard !hints.isEmpty else { throw TrainingError("--hint-epochs \(hintEpochs) needs at least one --hint") }
        guard hintEpochs < studentEpochs else {
            throw TrainingError("--hint-epochs \(hintEpochs) leaves no epoch of distillation: it must be less than --student-epochs \(studentEpochs)")
        }
        guard hintEpochs == 0 || (!restoreBest && patience == nil) else {
            throw TrainingError("--hint-epochs \(hintEpochs) with --restore-best or --patience: the hints-only epochs would count for the best "
                + "epoch and the patience while the student's head is untrained; use one or the other")
        }
        guard let teacher else {
            throw TrainingError("--hint needs the teacher's model, run forward to its layer on every batch: give --teacher FILE "
                + "(one checkpoint), not --teacher-logits or several teachers")
        }
        return try HintPlan(hints, teacher: teacher, student: HintPlan.Side(role: "student", plan: studentModel.plan()), gemm: gemm)
    }

    /// Whether `--view-cache` can serve the distilled student: views of `--augment` alone; a one-line error otherwise.
    public func checkViewCache() throws {
        if studentModel.augmentsInTraining {
            throw TrainingError("--view-cache: the student's own augmentation layers draw views in its forward pass, which no cache holds; "
                + "use --augment alone, or no --view-cache")
        }
        guard augment(.student) != AugmentSpecification.none else {
            throw TrainingError("--view-cache keeps the teacher's logits of --augment's views; without --augment they are computed once anyway")
        }
    }

    /// Whether the students train on augmented views (`--augment`, or augmentation layers in the student's model).
    public var augmentsStudents: Bool { augment(.student) != AugmentSpecification.none || studentModel.augmentsInTraining }

    /// The augmentation of `role`'s phases ("" none).
    public func augment(_ role: ModelRole) -> String {
        role == .teacher ? teacherAugment ?? augment : augment
    }

    /// How the phases of `role` train: the teacher by `teacherRule` where set, the students by the shared settings.
    public func rule(_ role: ModelRole) -> TrainingRule {
        if role == .teacher, let teacherRule { return teacherRule }
        return TrainingRule(optimizer: optimizer, schedule: schedule, learningRate: learningRate)
    }

    /// What every rank must agree on: the settings that affect training (the models by content).
    public var agreement: [(name: String, hash: UInt64)] { [("the training settings (\(summary))", Fingerprint.text(summary))] }

    public func model(_ role: ModelRole) -> ModelDescription { role == .teacher ? teacherModel : studentModel }

    /// Both models of `preset`.
    public mutating func use(_ preset: Architecture) {
        (teacherModel, studentModel) = (preset.description(.teacher), preset.description(.student))
    }

    private func hex(_ value: UInt64) -> String { String(value, radix: 16) }

    /// Independent, reproducible seeds for each use (initialising each model, shuffling each phase).
    public func seed(for purpose: Purpose) -> UInt64 {
        let base = purpose == .teacherAugmentation || purpose == .studentAugmentation ? augmentSeed ?? seed : seed
        var generator = SeededGenerator(seed: base ^ (purpose.rawValue &* 0xD1B5_4A32_D192_ED03))
        return generator.next()
    }

    public enum Purpose: UInt64, Sendable {
        case teacherWeights = 1, studentWeights, scratchWeights
        case teacherShuffle = 11, studentShuffle, scratchShuffle
        case trainSubset = 21
        /// Every student phase draws the same views (the pairing of a distilled student and its scratch twin).
        case teacherAugmentation = 31, studentAugmentation
    }
}

