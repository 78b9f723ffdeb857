import Collective
import Datasets
import Foundation
import NN

/// One model's line in the final comparison table.
public struct ModelReport: Sendable {
    public var name: String
    public var parameters: Int
    public var test: Evaluation
    public var trainingSeconds: Double
    /// With a validation split, which epoch the weights are from: "3 of 5 (best val_loss)", "4 of 10 (stopped early)".
    public var epoch: String?

    public init(name: String, parameters: Int, test: Evaluation, trainingSeconds: Double, epoch: String? = nil) {
        (self.name, self.parameters, self.test, self.trainingSeconds, self.epoch) = (name, parameters, test, trainingSeconds, epoch)
    }
}

/// A model a recipe phase trained, with its test figures and training history.
public struct TrainedModel {
    public var model: Sequential
    public var report: ModelReport
    public var history: FitHistory

    public init(model: Sequential, report: ModelReport, history: FitHistory) {
        (self.model, self.report, self.history) = (model, report, history)
    }
}

/// Where a recipe keeps its training state, how often, and whether it continues from it.
/// The directory must be the same for every rank (a shared file system across nodes); rank 0 writes.
public struct RecipeCheckpoints {
    public var directory: String
    /// Steps between saves; nil saves at the end of each epoch only.
    public var every: Int?
    public var resume: Bool
    /// Polled once per step on every rank (e.g. "a SIGTERM arrived").
    public var stopRequested: () -> Bool
    /// Told what a resume found and skipped (rank 0 prints).
    public var log: (String) -> Void

    public init(directory: String, every: Int?, resume: Bool, stopRequested: @escaping () -> Bool, log: @escaping (String) -> Void) {
        (self.directory, self.every, self.resume, self.stopRequested, self.log) = (directory, every, resume, stopRequested, log)
    }
}

/// The Keras knowledge-distillation recipe, phase by phase, on any communicator:
/// train and evaluate the teacher; compute its logits once; distil the student from them and
/// evaluate it; train a fresh student from scratch and evaluate it.
public struct Recipe {
    public let settings: RecipeSettings
    public let communicator: Communicator
    public let train: LabeledImages
    public let test: LabeledImages
    /// Held out of the training set and evaluated after each epoch (`holdingOut`); nil: none.
    public var validation: LabeledImages?
    /// Carries out every model's matrix products.
    public let gemm: GEMMBackend
    /// Gives each phase its progress observer (nil on ranks that stay quiet).
    public var observer: (Phase) -> TrainingObserver? = { _ in nil }
    /// Training-state checkpoints and resume; nil trains without them.
    public var checkpoints: RecipeCheckpoints?

    public init(settings: RecipeSettings, communicator: Communicator, gemm: GEMMBackend, train: LabeledImages, test: LabeledImages) {
        self.gemm = gemm
        self.settings = settings
        self.communicator = communicator
        self.train = train
        self.test = test
    }

    /// Checks that the models of `roles` build, fit the data and (both given) share their classes.
    public func checkModels(_ roles: [ModelRole], teacher loaded: Sequential? = nil) throws {
        let teacher = try loaded ?? (roles.contains(.teacher) ? settings.teacherModel.build(gemm: gemm) : nil)
        let student = try roles.contains(.student) ? settings.studentModel.build(gemm: gemm) : nil
        try ModelCompatibility.check(teacher: teacher, student: student, data: train)
    }

    /// What a saved model's file carries besides its model JSON: the settings that made it.
    public func savedMetadata(dataset: String, trainingSeconds: Double, epoch: String? = nil) -> [String: String] {
        (epoch.map { ["epoch": $0] } ?? [:]).merging([
         "settings": settings.summary, "seed": "\(settings.seed)", "alpha": "\(settings.alpha)", "temperature": "\(settings.temperature)",
         "teacher_epochs": "\(settings.teacherEpochs)", "student_epochs": "\(settings.studentEpochs)", "dataset": dataset,
         "training_seconds": "\(trainingSeconds)", "training_data": trainingDataFingerprint]) { _, fixed in fixed }
    }

    /// The training set's size, shape and full hash, as states and saved models record it.
    public var trainingDataFingerprint: String {
        "\(train.count) samples of \(train.height)x\(train.width)x\(train.channels), #\(String(Fingerprint.data(train), radix: 16))"
    }

    /// A freshly initialised model; rank 0's weights are broadcast so every replica starts equal. `attached`
    /// layers (hint regressors) are initialised after the model's own weights, which are as without them.
    public func freshModel(_ role: ModelRole, purpose: RecipeSettings.Purpose, attached: [AttachedLayer] = []) throws -> Sequential {
        let model = try settings.model(role).build(gemm: gemm, attached: attached)
        var rng = SeededGenerator(seed: settings.seed(for: purpose))
        model.parameters.initialize(using: &rng)
        communicator.broadcast(model.parameters.values.buffer, root: 0)
        return model
    }

    public func trainTeacher() throws -> TrainedModel { try trainClassifier(.teacher) }

    public func trainScratchStudent() throws -> TrainedModel { try trainClassifier(.scratchStudent) }

    /// The scratch twin of `distillStudent`: the same student, initial weights and batch order
    /// (its seeds), trained on the labels alone by the plain classifier path. At alpha 1 the two
    /// train bit for bit alike, so a difference between them is the teacher's doing.
    public func trainScratchTwin() throws -> TrainedModel { try trainClassifier(.scratchTwin) }

    public func teacherLogits(_ teacher: Sequential) -> CachedTeacherLogits {
        CachedTeacherLogits.compute(teacher: teacher, data: train, communicator: communicator)
    }

    /// Distils the student from `teacher`'s logits; with hints (`settings.hints`), `hintTeacher` is the teacher's model,
    /// run forward to its hinted layers on every batch. With `viewCache`, a running teacher's logits of the `--augment`
    /// views are read from (or computed once into) its directory instead of the teacher running in every step.
    public func distillStudent(from given: TeacherLogitsSource, hintTeacher: Sequential? = nil, viewCache: ViewCache? = nil) throws -> TrainedModel {
        let hintPlan = try settings.hintPlan(teacher: hintTeacher.map { HintPlan.Side(role: "teacher", model: $0) }, gemm: gemm)
        let teacher = try viewCache.map { try viewLogits(of: given, cache: $0) } ?? given
        let student = try freshModel(.student, purpose: Phase.distilledStudent.seeds.weights, attached: hintPlan?.attached ?? [])
        let chain = student.leadingAugmentationCount
        if let index = student.layers.indices.first(where: { $0 >= chain && student.layers[$0] is AugmentationLayer }) {
            throw TrainingError("the student's layer '\(student.layerNames[index])' augments in training but not in a leading chain right "
                + "after the input, so its teacher would not see that view; move it to the front of the model, or use --augment")
        }
        if augmentsStudents, teacher is CachedTeacherLogits {
            let why = chain > 0 ? "the student's layer '\(student.layerNames[0])' augments its input" : "--augment \(settings.augment)"
            throw TrainingError("\(why): the teacher must see each augmented view, which cached logits of the plain "
                + "images are not; distil from the teacher model (--teacher), which then runs on every batch")
        }
        if chain > 0, let running = teacher as? RunningTeacher, running.teacher.inputShape != student.outputShapes[chain - 1] {
            throw TrainingError("the student's augmentation '\(student.layerNames[chain - 1])' gives views of \(student.outputShapes[chain - 1]), "
                + "but the teacher takes \(running.teacher.inputShape)")
        }
        let distiller = Distiller(student: student, teacherLogits: teacher, communicator: communicator)
        try SettingRanges.alpha(settings.alpha, name: "alpha")
        try SettingRanges.temperature(settings.temperature, name: "temperature")
        distiller.compile(optimizer: try optimizer(.distilledStudent),
                          loss: try LossRegistry.make(settings.loss, alpha: settings.alpha, temperature: settings.temperature))
        guard let hintPlan, let hintTeacher else { return try fit(distiller, .distilledStudent, teacher: teacher) }
        distiller.hints = FeatureHints(plan: hintPlan, teacher: hintTeacher, student: student, hintEpochs: settings.hintEpochs)
        var trained = try fit(distiller, .distilledStudent, teacher: teacher, hintTeacher: hintTeacher)
        // The regressors stay behind: the student saved and reported is the model of its description alone.
        trained.model = try settings.studentModel.build(gemm: gemm)
        trained.model.parameters.values.pointer.update(from: student.parameters.values.pointer, count: student.modelParameterCount)
        trained.report.parameters = trained.model.parameterCount
        return trained
    }

    /// The view cache's source for `teacher`, which must be the teacher's model, for students augmented by `--augment` alone:
    /// the tables of every epoch of the distilled student's views of this recipe's training set.
    public func viewLogits(of teacher: TeacherLogitsSource, cache: ViewCache) throws -> ViewTeacherLogits {
        try settings.checkViewCache()
        guard let augmentation = try augmentation(.distilledStudent) else { preconditionFailure("checkViewCache: --augment is set") }
        guard let running = teacher as? RunningTeacher else {
            throw TrainingError("--view-cache needs the teacher's model to run on the views: give --teacher FILE (one checkpoint)")
        }
        return try ViewTeacherLogits.make(teacher: running.teacher, data: train, augmentation: augmentation, augment: settings.augment(.student),
                                          epochs: settings.studentEpochs, cache: cache, communicator: communicator)
    }

    private func trainClassifier(_ phase: Phase) throws -> TrainedModel {
        let model = try freshModel(phase.role, purpose: phase.seeds.weights)
        return try fit(Classifier(model: model, optimizer: try optimizer(phase), communicator: communicator), phase)
    }

    /// The data-side augmentation of `phase`, if any; every student phase draws the same views.
    private func augmentation(_ phase: Phase) throws -> DataAugmentation? {
        let parts = try AugmentSpecification.transforms(settings.augment(phase.role))
        guard !parts.transforms.isEmpty || parts.mixup != nil else { return nil }
        return DataAugmentation(transforms: parts.transforms, mixup: parts.mixup, seed: settings.seed(for: phase.role == .teacher ? .teacherAugmentation : .studentAugmentation),
                                sampleSize: train.sampleSize)
    }

    /// Whether the students train on augmented views, so a distilled one needs its teacher run on each.
    public var augmentsStudents: Bool { settings.augmentsStudents }

    /// The optimizer of `phase`, its schedule laid over the phase's steps.
    private func optimizer(_ phase: Phase) throws -> Optimizer {
        let length = PhaseLength(stepsPerEpoch: BatchSchedule(sampleCount: train.count, batchSize: settings.batchSize).batchCount,
                                 epochs: phase.epochs(settings))
        return try settings.rule(phase.role).makeOptimizer(length: length, scheduleFlag: phase.role == .teacher && settings.teacherRule != nil
                                                             ? "--teacher-schedule" : "--schedule")
    }

    /// Trains `phase` with `step` (resumable, observed) and evaluates it on the test set.
    private func fit(_ step: LocalGradientStep, _ phase: Phase, teacher: TeacherLogitsSource? = nil, hintTeacher: Sequential? = nil) throws -> TrainedModel {
        let monitor = validation.map {
            ValidationMonitor(data: $0, batchSize: settings.batchSize, quantity: settings.monitor, restoreBest: settings.restoreBest,
                              patience: settings.patience)
        }
        let history = try step.fit(train, epochs: phase.epochs(settings), batchSize: settings.batchSize,
                                   seed: settings.seed(for: phase.seeds.shuffle), observer: observer(phase),
                                   control: try control(phase, model: step.model, optimizer: step.optimizer, teacher: teacher, hintTeacher: hintTeacher,
                                                        monitor: monitor),
                                   phase: phase.title, augmentation: try augmentation(phase), validation: monitor)
        let (planned, trained) = (phase.epochs(settings), history.epochs.count)
        let epoch = monitor.map { _ in
            "\(history.restoredEpoch ?? trained) of \(planned)" + (history.restoredEpoch != nil ? " (best \(settings.monitor.rawValue))"
                : trained < planned ? " (stopped early)" : "")
        }
        let report = ModelReport(name: phase.title, parameters: step.model.parameterCount,
                                 test: try step.evaluate(test, batchSize: settings.batchSize),
                                 trainingSeconds: history.epochSeconds.reduce(0, +), epoch: epoch)
        return TrainedModel(model: step.model, report: report, history: history)
    }

    /// Saving and resuming for one phase: rank 0 writes `state-<phase>-*.safetensors`; with `resume`,
    /// every rank reads the newest intact one and the ranks check that they read the same.
    /// A state carries the fingerprint of the training data (and of the teacher, for a distilled student).
    private func control(_ phase: Phase, model: Sequential, optimizer: Optimizer, teacher: TeacherLogitsSource?, hintTeacher: Sequential?,
                         monitor: ValidationMonitor?) throws -> FitControl {
        guard let checkpoints else { return FitControl() }
        let stepsPerEpoch = BatchSchedule(sampleCount: train.count, batchSize: settings.batchSize).batchCount
        let (summary, ranks, isRoot) = (settings.summary, communicator.size, communicator.isRoot)
        var fingerprint = ["training data": trainingDataFingerprint]
        if let teacher { fingerprint["teacher"] = "\(teacher.classes) classes, #\(String(teacher.fingerprint, radix: 16))" }
        if let hintTeacher { fingerprint["hint teacher"] = "#\(String(Fingerprint.parameters(hintTeacher), radix: 16))" }
        var control = FitControl(checkpointEvery: checkpoints.every, stopRequested: checkpoints.stopRequested)
        control.save = { position in
            guard isRoot else { return }
            try TrainingState(phase: phase.fileStem, settings: summary, fingerprint: fingerprint, ranks: ranks, position: position,
                              model: model, optimizer: optimizer, bestWeights: monitor?.bestWeights)
                .save(in: checkpoints.directory, stepsPerEpoch: stepsPerEpoch)
        }
        guard checkpoints.resume else { return control }
        let found = try TrainingState.newest(in: checkpoints.directory, phase: phase.fileStem, settings: summary, fingerprint: fingerprint)
        var hash = ContentHash()
        if let found {
            try found.state.restore(into: model, optimizer: optimizer, source: found.path)
            monitor?.resume(best: found.state.position.best, weights: found.state.bestWeights)
            control.resume = found.state.position
            hash.mix(found.path)
            hash.mix(UnsafeBufferPointer(model.parameters.values.buffer))
        }
        try communicator.checkAgreement([("the training state to resume \(phase.fileStem) from", hash.value)])
        guard let found else { return control }
        for skipped in found.skipped { checkpoints.log("skipped \(skipped)") }
        let position = found.state.position
        checkpoints.log("resuming \(phase.fileStem) from \(found.path): epoch \(position.epoch), step \(position.step)"
            + (found.state.ranks == ranks ? "" : " (written by \(found.state.ranks) rank(s), continuing on \(ranks) with the same global batches)"))
        return control
    }

    /// Removes a finished phase's training states (its model is saved by then).
    public func removeStates(of phase: Phase) {
        guard let checkpoints, communicator.isRoot else { return }
        for path in TrainingState.files(in: checkpoints.directory, phase: phase.fileStem) { try? FileManager.default.removeItem(atPath: path) }
    }
}
