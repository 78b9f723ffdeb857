import ArgumentParser
import Distill
import Foundation

/// Distils a student from a saved teacher.
struct DistillStudent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill-student",
        abstract: "Distil a student from a saved teacher checkpoint, evaluate it, and save it.")

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var teacher: TeacherOptions

    @Option(help: "Where to write the student checkpoint.")
    var output = "student.safetensors"

    @Option(help: ArgumentHelp("Train the student on a seeded, class-balanced fraction of the training set (0 < F <= 1; "
                               + "the teacher's logits still come from, and are indexed by, the whole set).", valueName: "F"), transform: decimal)
    var trainFraction: Double = 1

    @Flag(help: "Run the teacher forward on every batch instead of computing its logits once.")
    var runTeacher = false

    @Option(help: "Also write per-epoch metrics as JSON here (rank 0).")
    var metricsJSON: String?

    func validate() throws {
        guard trainFraction > 0, trainFraction <= 1 else { throw ValidationError("--train-fraction must be in (0, 1], got \(trainFraction)") }
    }

    func run() throws {
        let session = Session.start(runtime)
        session.run(resumeHint: checkpoints.resumeHint) {
            var settings = try training.settings
            try checkWritable(output, flag: "--output", bytes: try settings.studentModel.plan().parameterCount * 4,
                              isRoot: session.isRoot)
            try checkWritable(metricsJSON, flag: "--metrics-json", isRoot: session.isRoot)
            let loaded = try teacher.source.load(data: data.source, settings: settings, context: session.context, agreeing: settings.agreement,
                                                 computeLogits: !runTeacher && settings.augment(.student) == AugmentSpecification.none)
            if let description = loaded.description { settings.teacherModel = description }   // the file's model, whatever --preset says
            session.log("teacher: \(loaded.summary)")
            guard let source: TeacherLogitsSource = loaded.logits ?? loaded.model.map(RunningTeacher.init) else {
                throw CommandError("no teacher: give --teacher or --teacher-logits")
            }
            let all = try session.observed(session.context.recipe(settings, train: loaded.train, test: loaded.test), checkpoints: checkpoints)
            let held = try all.holdingOut(teacher: source)
            if let validation = held.recipe.validation { session.log("validation: \(validation.count) samples held out of \(all.train.count)") }
            let picked = held.recipe.onFraction(trainFraction, teacher: held.teacher)
            if trainFraction < 1 {
                session.log("training on \(picked.kept) of \(loaded.train.count) samples: a class-balanced \(fixed(100 * trainFraction, 1))% (seed \(settings.seed))")
            }
            let recipe = picked.recipe
            let student = try PhaseRunner(recipe: recipe, context: session.context, dataset: data.source.description)
                .run(.distilledStudent, savingTo: [output], report: session.tested("distilled student")) { try recipe.distillStudent(from: picked.teacher) }
            if let metricsJSON, session.isRoot { try writeMetrics(student.history, test: student.report.test, to: metricsJSON) }
        }
    }
}
