import ArgumentParser
import Distill
import Foundation

/// Trains a teacher (or, with --role student, a student on labels alone) and saves it.
struct TrainTeacher: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a teacher on labels, evaluate it, and save it as a safetensors checkpoint.")

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Where to write the checkpoint.")
    var output = "teacher.safetensors"

    @Option(help: "Also write per-epoch metrics as JSON here (rank 0).")
    var metricsJSON: String?

    func run() throws {
        Session.run(runtime, resumeHint: checkpoints.resumeHint) { session in
            let settings = try training.settings
            try checkWritable(output, flag: "--output", bytes: try settings.teacherModel.plan().parameterCount * 4,
                              isRoot: session.isRoot)
            try checkWritable(metricsJSON, flag: "--metrics-json", isRoot: session.isRoot)
            let (train, test) = try data.source.load(on: session.communicator, agreeing: settings.agreement)
            let recipe = try session.heldOut(try session.observed(session.context.recipe(settings, train: train, test: test), checkpoints: checkpoints))
            try recipe.checkModels([.teacher])
            let teacher = try PhaseRunner(recipe: recipe, context: session.context, dataset: data.source.description)
                .run(.teacher, savingTo: [output], report: session.tested("teacher")) { try recipe.trainTeacher() }
            if let metricsJSON, session.isRoot { try writeMetrics(teacher.history, test: teacher.report.test, to: metricsJSON) }
        }
    }
}
