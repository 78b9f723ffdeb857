import ArgumentParser
import Distill
import Foundation

/// The whole recipe, as the Keras example runs it.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the teacher, distil the student, train a scratch student; print the comparison (default).")

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Also save the three models as safetensors files in this directory (rank 0).")
    var saveDirectory: String?

    func run() throws {
        let session = Session.start(runtime)
        session.run {
            if let directory = saveDirectory, session.isRoot {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try checkWritable("\(directory)/teacher.safetensors", isRoot: true)
            }
            let (train, test) = try data.load(on: session.communicator)
            session.log("data: \(data.dataset.rawValue) from \(data.directory): \(train.count) training, \(test.count) test samples")
            var recipe = Recipe(settings: training.settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
            recipe.observer = session.observer
            // Each model is saved as soon as it is trained, so a later failure loses nothing before it.
            func save(_ model: TrainedModel, _ role: Architecture.Role, as name: String) throws {
                guard let directory = saveDirectory, session.isRoot else { return }
                try Checkpoint.save(model.model, architecture: training.preset, role: role, to: "\(directory)/\(name).safetensors")
                session.log("saved \(directory)/\(name).safetensors")
            }

            session.log("\n== teacher: \(epochs(training.teacherEpochs))")
            let teacher = try recipe.trainTeacher()
            session.log("teacher test accuracy \(percent(teacher.report.test.accuracy)), loss \(fixed(teacher.report.test.loss))")
            try save(teacher, .teacher, as: "teacher")

            let clock = Date()
            let logits = recipe.teacherLogits(teacher.model)
            session.log("teacher logits for \(logits.count) training samples computed once in \(fixed(Date().timeIntervalSince(clock), 1)) s")

            session.log("\n== student distilled from the teacher: \(epochs(training.studentEpochs)), alpha \(training.alpha), T \(training.temperature)")
            let distilled = try recipe.distillStudent(from: logits)
            session.log("distilled student test accuracy \(percent(distilled.report.test.accuracy)), loss \(fixed(distilled.report.test.loss))")
            try save(distilled, .student, as: "student-distilled")

            session.log("\n== student from scratch: \(epochs(training.studentEpochs))")
            let scratch = try recipe.trainScratchStudent()
            session.log("scratch student test accuracy \(percent(scratch.report.test.accuracy)), loss \(fixed(scratch.report.test.loss))")
            try save(scratch, .student, as: "student-scratch")
            session.log("\n" + resultsTable([teacher.report, distilled.report, scratch.report]))
        }
    }
}

func epochs(_ count: Int) -> String { count == 1 ? "1 epoch" : "\(count) epochs" }
func percent(_ value: Double) -> String { String(format: "%.2f%%", 100 * value) }
func fixed(_ value: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
