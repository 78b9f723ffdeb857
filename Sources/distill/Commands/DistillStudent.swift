import ArgumentParser
import Distill
import Foundation
import NN

/// Distils a student from a saved teacher.
struct DistillStudent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill-student",
        abstract: "Distil a student from a saved teacher checkpoint, evaluate it, and save it.")

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "The teacher checkpoint (from train-teacher or run --save-directory).")
    var teacher = "teacher.safetensors"

    @Option(help: "Where to write the student checkpoint.")
    var output = "student.safetensors"

    @Flag(help: "Run the teacher forward on every batch instead of computing its logits once.")
    var runTeacher = false

    @Flag(inversion: .prefixedNo,
          help: "Keep the teacher's logits in <teacher>.logits.safetensors and reuse them while the teacher and data match.")
    var logitsCache = true

    @Option(help: "Also write per-epoch metrics as JSON here (rank 0).")
    var metricsJSON: String?

    func run() throws {
        let session = Session.start(runtime)
        session.run {
            try checkWritable(output, isRoot: session.isRoot)
            try checkWritable(metricsJSON, isRoot: session.isRoot)
            let (train, test) = try data.load(on: session.communicator)
            let loaded = try Checkpoint.load(from: teacher, expecting: .teacher, gemm: session.gemm)
            guard loaded.architecture == training.preset else {
                throw CommandError("\(teacher): holds a '\(loaded.architecture.rawValue)' teacher, but --preset is '\(training.preset.rawValue)'")
            }
            // Every rank distils from rank 0's copy of the teacher.
            session.communicator.broadcast(loaded.model.parameters.values.buffer, root: 0)
            var recipe = Recipe(settings: training.settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
            recipe.observer = session.observer
            let source: TeacherLogitsSource = runTeacher ? RunningTeacher(loaded.model) : teacherLogits(loaded.model, recipe, session)
            let student = try recipe.distillStudent(from: source)
            session.log("distilled student test accuracy \(percent(student.report.test.accuracy)), loss \(fixed(student.report.test.loss))")
            guard session.isRoot else { return }
            try Checkpoint.save(student.model, architecture: training.preset, role: .student, to: output)
            session.log("saved \(output)")
            if let metricsJSON { try writeMetrics(student.history, test: student.report.test, to: metricsJSON) }
        }
    }

    /// Logits from the cache file when it matches this teacher and data on every rank; computed
    /// (and saved by rank 0) otherwise. The ranks agree on the choice with one allreduce, so none
    /// skips the allgatherv the others take.
    private func teacherLogits(_ model: Sequential, _ recipe: Recipe, _ session: Session) -> CachedTeacherLogits {
        let path = TeacherLogitsFile.path(forTeacher: teacher)
        let fingerprint = logitsCache ? TeacherLogitsFile.fingerprint(teacher: model, data: recipe.train) : nil
        let cached = fingerprint.flatMap {
            TeacherLogitsFile.load(from: path, fingerprint: $0, count: recipe.train.count, classes: model.outputSize)
        }
        var hits = [cached == nil ? 0.0 : 1.0]
        session.communicator.allreduceSum(&hits)
        if let cached, hits[0] == Double(session.communicator.size) {
            session.log("teacher logits: reused \(path)")
            return cached
        }
        let clock = Date()
        let logits = recipe.teacherLogits(model)
        session.log("teacher logits for \(logits.count) samples computed once in \(fixed(Date().timeIntervalSince(clock), 1)) s")
        if let fingerprint, session.isRoot {
            do {
                try TeacherLogitsFile.save(logits, fingerprint: fingerprint, to: path)
            } catch {
                session.log("warning: could not keep the teacher logits: \(error)")
            }
        }
        return logits
    }
}
