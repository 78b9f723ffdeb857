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
}

/// A model a recipe phase trained, with its test figures and training history.
public struct TrainedModel {
    public var model: Sequential
    public var report: ModelReport
    public var history: FitHistory
}

/// The Keras knowledge-distillation recipe, phase by phase, on any communicator:
/// train and evaluate the teacher; compute its logits once; distil the student from them and
/// evaluate it; train a fresh student from scratch and evaluate it.
public struct Recipe {
    public let settings: RecipeSettings
    public let communicator: Communicator
    public let train: LabeledImages
    public let test: LabeledImages
    /// Carries out every model's matrix products.
    public let gemm: GEMMBackend
    /// Gives each phase its progress observer (nil on ranks that stay quiet).
    public var observer: (String) -> TrainingObserver? = { _ in nil }

    public init(settings: RecipeSettings, communicator: Communicator, gemm: GEMMBackend, train: LabeledImages, test: LabeledImages) {
        self.gemm = gemm
        self.settings = settings
        self.communicator = communicator
        self.train = train
        self.test = test
    }

    /// A freshly initialised model; rank 0's weights are broadcast so every replica starts equal.
    public func freshModel(_ role: Architecture.Role, purpose: RecipeSettings.Purpose) throws -> Sequential {
        let model = try settings.architecture.model(role, gemm: gemm)
        var rng = SeededGenerator(seed: settings.seed(for: purpose))
        model.parameters.initializeGlorotUniform(using: &rng)
        communicator.broadcast(model.parameters.values.buffer, root: 0)
        return model
    }

    public func trainTeacher() throws -> TrainedModel {
        let teacher = try freshModel(.teacher, purpose: .teacherWeights)
        return try fitClassifier(teacher, name: "teacher", shuffle: .teacherShuffle, epochs: settings.teacherEpochs)
    }

    public func trainScratchStudent() throws -> TrainedModel {
        let student = try freshModel(.student, purpose: .scratchWeights)
        return try fitClassifier(student, name: "student (scratch)", shuffle: .scratchShuffle, epochs: settings.studentEpochs)
    }

    public func teacherLogits(_ teacher: Sequential) -> CachedTeacherLogits {
        CachedTeacherLogits.compute(teacher: teacher, data: train, communicator: communicator)
    }

    public func distillStudent(from teacher: TeacherLogitsSource) throws -> TrainedModel {
        let student = try freshModel(.student, purpose: .studentWeights)
        let distiller = Distiller(student: student, teacherLogits: teacher, communicator: communicator)
        try distiller.compile(optimizer: Adam(learningRate: settings.learningRate), alpha: settings.alpha,
                              temperature: settings.temperature)
        let history = try distiller.fit(train, epochs: settings.studentEpochs, batchSize: settings.batchSize,
                                        seed: settings.seed(for: .studentShuffle), observer: observer("student (distilled)"))
        let report = ModelReport(name: "student (distilled)", parameters: student.parameterCount,
                                 test: distiller.evaluate(test, batchSize: settings.batchSize),
                                 trainingSeconds: history.epochSeconds.reduce(0, +))
        return TrainedModel(model: student, report: report, history: history)
    }

    private func fitClassifier(_ model: Sequential, name: String, shuffle: RecipeSettings.Purpose, epochs: Int) throws -> TrainedModel {
        let classifier = Classifier(model: model, optimizer: Adam(learningRate: settings.learningRate), communicator: communicator)
        let history = try classifier.fit(train, epochs: epochs, batchSize: settings.batchSize,
                                         seed: settings.seed(for: shuffle), observer: observer(name))
        let report = ModelReport(name: name, parameters: model.parameterCount,
                                 test: classifier.evaluate(test, batchSize: settings.batchSize),
                                 trainingSeconds: history.epochSeconds.reduce(0, +))
        return TrainedModel(model: model, report: report, history: history)
    }
}
