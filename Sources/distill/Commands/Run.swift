import ArgumentParser
import Collective
import Distill
import Foundation
import NN

/// The whole recipe, as the Keras example runs it.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the teacher, distil the student, train a scratch student; print the comparison (default).",
        discussion: """
            With --checkpoint-dir, the training state is saved at the end of each epoch (or every \
            --checkpoint-every steps) and each finished phase's model is kept there; SIGTERM or SIGINT saves \
            the state at the next step and exits with status \(StopRequest.exitCode); --resume continues: \
            finished phases are reused and the interrupted one goes on at its step, with the same weights as an \
            uninterrupted run on the same ranks, threads and --gemm.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Also save the three models as safetensors files in this directory (rank 0).")
    var saveDirectory: String?

    func run() throws {
        let session = Session.start(runtime)
        session.run(resumeHint: checkpoints.resumeHint) {
            let settings = try training.settings
            let bytes = try [ModelRole.teacher, .student, .student].map {
                try settings.model($0).build(gemm: session.gemm).parameterCount * 4
            }.reduce(0, +)
            for directory in [saveDirectory, checkpoints.checkpointDir].compactMap({ $0 }) where session.isRoot {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for phase in Phase.recipe {
                    // The checkpoint directory also holds training states: weights and two Adam moments, twice.
                    try checkWritable("\(directory)/\(phase.fileStem).safetensors", bytes: directory == saveDirectory ? bytes : 7 * bytes,
                                      isRoot: true)
                }
            }
            let (train, test) = try data.load(on: session.communicator, agreeing: settings.agreement)
            session.log("data: \(data.source): \(train.count) training, \(test.count) test samples, \(train.sampleShape.map(String.init).joined(separator: " x ")), \(train.classes) classes")
            var recipe = Recipe(settings: settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
            recipe.observer = session.observer
            try recipe.checkModels([.teacher, .student])
            recipe.checkpoints = try checkpoints.recipeCheckpoints(session)
            let phases = PhaseModels(recipe: recipe, session: session, dataset: data.source,
                                     directories: [checkpoints.checkpointDir, saveDirectory].compactMap { $0 },
                                     resume: checkpoints.resume)

            session.log("\n== teacher: \(epochs(training.teacherEpochs))")
            let teacher = try phases.trained(.teacher) { try recipe.trainTeacher() }
            session.log("teacher test accuracy \(percent(teacher.report.test.accuracy)), loss \(fixed(teacher.report.test.loss))")

            let logits = try teacherLogits(teacher.model, teacherPath: checkpoints.checkpointDir.map { "\($0)/teacher.safetensors" },
                                           recipe: recipe, session: session)

            session.log("\n== student distilled from the teacher: \(epochs(training.studentEpochs)), alpha \(training.alpha), T \(training.temperature)")
            let distilled = try phases.trained(.distilledStudent) { try recipe.distillStudent(from: logits) }
            session.log("distilled student test accuracy \(percent(distilled.report.test.accuracy)), loss \(fixed(distilled.report.test.loss))")

            session.log("\n== student from scratch: \(epochs(training.studentEpochs))")
            let scratch = try phases.trained(.scratchStudent) { try recipe.trainScratchStudent() }
            session.log("scratch student test accuracy \(percent(scratch.report.test.accuracy)), loss \(fixed(scratch.report.test.loss))")
            session.log("\n" + resultsTable([teacher.report, distilled.report, scratch.report]))
            if let directory = runtime.metricsDir, session.isRoot {
                switch plotLearningCurves(in: directory) {
                case .success(let path): session.log("learning curves: \(path)")
                case .failure(let why): session.log("learning curves not drawn: \(why)")
                }
            }
        }
    }
}

/// A recipe phase's model: trained and saved as soon as it is done (so a later failure loses
/// nothing before it), or, when resuming, loaded from the checkpoint directory and evaluated again.
struct PhaseModels {
    let recipe: Recipe
    let session: Session
    let dataset: String
    let directories: [String]   // the checkpoint directory first, where a resume looks
    let resume: Bool

    func trained(_ phase: Phase, train: () throws -> TrainedModel) throws -> TrainedModel {
        let (name, role, title) = (phase.fileStem, phase.role, phase.title)
        // Every rank must take the same branch: a checkpoint directory that only some ranks see would
        // otherwise send them down different collectives.
        let path = directories.first.map { "\($0)/\(name).safetensors" }
        let finished = resume && path.map { FileManager.default.fileExists(atPath: $0) } == true
        if resume, let path { try session.communicator.checkAgreement([("whether \(path) exists", finished ? 1 : 0)]) }
        if finished, let path {
            let loaded = try Checkpoint.load(from: path, expecting: role, gemm: session.gemm)
            guard loaded.metadata["settings"] == recipe.settings.summary else {
                throw CommandError("\(path): was trained with other settings (\(loaded.metadata["settings"] ?? "unknown")); "
                    + "resume with the same flags or use another --checkpoint-dir")
            }
            guard loaded.metadata["training_data"] == recipe.trainingDataFingerprint else {
                throw CommandError("\(path): was trained on other training data (\(loaded.metadata["training_data"] ?? "not recorded")), "
                    + "not this run's (\(recipe.trainingDataFingerprint)); resume with the same data flags or use another --checkpoint-dir")
            }
            try session.communicator.checkAgreement([("the model \(path)", parameterHash(loaded.model))])
            session.log("\(title): finished in an earlier run, loaded from \(path)")
            let test = try Evaluation.run(loaded.model, on: recipe.test, batchSize: recipe.settings.batchSize, communicator: session.communicator)
            let seconds = loaded.metadata["training_seconds"].flatMap(Double.init) ?? 0
            return TrainedModel(model: loaded.model, report: ModelReport(name: title, parameters: loaded.model.parameterCount,
                                                                         test: test, trainingSeconds: seconds),
                                history: FitHistory(metricNames: []))
        }
        let trained = try train()
        if session.isRoot {
            for directory in directories {
                try Checkpoint.save(trained.model, role: role, to: "\(directory)/\(name).safetensors",
                                    extra: recipe.savedMetadata(dataset: dataset, trainingSeconds: trained.report.trainingSeconds))
                session.log("saved \(directory)/\(name).safetensors")
            }
        }
        recipe.removeStates(of: phase)
        return trained
    }
}

func epochs(_ count: Int) -> String { count == 1 ? "1 epoch" : "\(count) epochs" }
func percent(_ value: Double) -> String { String(format: "%.2f%%", 100 * value) }
func fixed(_ value: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
