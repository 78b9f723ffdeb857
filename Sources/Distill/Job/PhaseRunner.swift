import Foundation
import NN

/// Runs a job's phases. Resuming, a phase finished in an earlier run (its model in the checkpoint
/// directory) is loaded and evaluated again; otherwise it is trained (an interrupted phase goes on
/// from its state, through the recipe's checkpoints), saved by rank 0 to every path as soon as it is
/// done (so a later failure loses nothing before it), and its training states are removed.
public struct PhaseRunner {
    public let recipe: Recipe
    public let context: JobContext
    /// The data's description, kept in saved models.
    public let dataset: String
    /// Where a finished phase's model is looked for (the checkpoint directory, when resuming); nil trains every phase.
    public let finishedIn: String?

    public init(recipe: Recipe, context: JobContext, dataset: String, finishedIn: String? = nil) {
        (self.recipe, self.context, self.dataset, self.finishedIn) = (recipe, context, dataset, finishedIn)
    }

    /// The phase's model, loaded or trained by `train`; `report` is told it before it is saved.
    public func run(_ phase: Phase, savingTo paths: [String], report: (TrainedModel) -> Void = { _ in },
                    train: () throws -> TrainedModel) throws -> TrainedModel {
        if let finished = try loadFinished(phase) {
            report(finished)
            return finished
        }
        let trained = try train()
        report(trained)
        if context.isRoot {
            for path in paths {
                try Checkpoint.save(trained.model, role: phase.role, to: path,
                                    extra: recipe.savedMetadata(dataset: dataset, trainingSeconds: trained.report.trainingSeconds,
                                                                epoch: trained.report.epoch))
                context.log("saved \(path)")
            }
        }
        recipe.removeStates(of: phase)
        return trained
    }

    /// The model of `phase` from `finishedIn`, checked to be this run's, evaluated on the test set; nil when it is not there.
    private func loadFinished(_ phase: Phase) throws -> TrainedModel? {
        guard let directory = finishedIn else { return nil }
        // Every rank must take the same branch: a checkpoint directory that only some ranks see would
        // otherwise send them down different collectives.
        let path = "\(directory)/\(phase.fileStem).safetensors"
        let finished = FileManager.default.fileExists(atPath: path)
        try context.communicator.checkAgreement([("whether \(path) exists", finished ? 1 : 0)])
        guard finished else { return nil }
        let loaded = try Checkpoint.load(from: path, expecting: phase.role, gemm: context.gemm)
        guard loaded.metadata["settings"] == recipe.settings.summary else {
            throw TrainingError("\(path): was trained with other settings (\(loaded.metadata["settings"] ?? "unknown")); "
                + "resume with the same flags or use another --checkpoint-dir")
        }
        guard loaded.metadata["training_data"] == recipe.trainingDataFingerprint else {
            throw TrainingError("\(path): was trained on other training data (\(loaded.metadata["training_data"] ?? "not recorded")), "
                + "not this run's (\(recipe.trainingDataFingerprint)); resume with the same data flags or use another --checkpoint-dir")
        }
        try context.communicator.checkAgreement([("the model \(path)", Fingerprint.parameters(loaded.model))])
        context.log("\(phase.title): finished in an earlier run, loaded from \(path)")
        let test = try Evaluation.run(loaded.model, on: recipe.test, batchSize: recipe.settings.batchSize, communicator: context.communicator)
        let seconds = loaded.metadata["training_seconds"].flatMap(Double.init) ?? 0
        return TrainedModel(model: loaded.model, report: ModelReport(name: phase.title, parameters: loaded.model.parameterCount,
                                                                     test: test, trainingSeconds: seconds, epoch: loaded.metadata["epoch"]),
                            history: FitHistory(metricNames: []))
    }

    /// Rank 0 fails before training when a model file of `phases` could not be written to one of
    /// `directories` (created if missing) with room for `bytes` each; the checkpoint directory also
    /// holds training states (weights and at most two optimizer slots, as Adam's moments, twice), so it needs seven times that.
    public static func checkDirectories(_ directories: [String], checkpointDirectory: String?, phases: [Phase], bytes: Int,
                                        isRoot: Bool) throws {
        guard isRoot else { return }
        for directory in directories {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for phase in phases {
                try checkWritable("\(directory)/\(phase.fileStem).safetensors", bytes: directory == checkpointDirectory ? 7 * bytes : bytes,
                                  isRoot: true)
            }
        }
    }
}
