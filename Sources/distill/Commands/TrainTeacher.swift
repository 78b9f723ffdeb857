import ArgumentParser
import Distill
import Foundation

/// Trains a teacher (or, with --role student, a student on labels alone) and saves it.
struct TrainTeacher: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a teacher on labels, evaluate it, and save it as a safetensors checkpoint.")

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Where to write the checkpoint.")
    var output = "teacher.safetensors"

    @Option(help: "Also write per-epoch metrics as JSON here (rank 0).")
    var metricsJSON: String?

    func run() throws {
        let session = Session.start(runtime)
        session.run {
            try checkWritable(output, bytes: try training.preset.model(.teacher, gemm: session.gemm).parameterCount * 4,
                              isRoot: session.isRoot)
            try checkWritable(metricsJSON, isRoot: session.isRoot)
            let (train, test) = try data.load(on: session.communicator, agreeing: training.agreement)
            var recipe = Recipe(settings: training.settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
            recipe.observer = session.observer
            let teacher = try recipe.trainTeacher()
            session.log("teacher test accuracy \(percent(teacher.report.test.accuracy)), loss \(fixed(teacher.report.test.loss))")
            guard session.isRoot else { return }
            try Checkpoint.save(teacher.model, architecture: training.preset, role: .teacher, to: output)
            session.log("saved \(output)")
            if let metricsJSON { try writeMetrics(teacher.history, test: teacher.report.test, to: metricsJSON) }
        }
    }
}
