import ArgumentParser
import Datasets
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
            try checkWritable(output, flag: "--output", bytes: try settings.studentModel.build(gemm: session.gemm).parameterCount * 4,
                              isRoot: session.isRoot)
            try checkWritable(metricsJSON, flag: "--metrics-json", isRoot: session.isRoot)
            let loaded = try teacher.load(data: data, settings: settings, session: session, agreeing: settings.agreement,
                                          computeLogits: !runTeacher)
            if let description = loaded.description { settings.teacherModel = description }   // the file's model, whatever --preset says
            session.log("teacher: \(loaded.summary)")
            guard var source: TeacherLogitsSource = loaded.logits ?? loaded.model.map(RunningTeacher.init) else {
                throw CommandError("no teacher: give --teacher or --teacher-logits")
            }
            var recipe = Recipe(settings: settings, communicator: session.communicator, gemm: session.gemm, train: loaded.train, test: loaded.test)
            if trainFraction < 1 {
                (recipe, source) = try subset(recipe, source, settings: settings, session: session)
            }
            recipe.observer = session.observer
            recipe.checkpoints = try checkpoints.recipeCheckpoints(session)
            let student = try recipe.distillStudent(from: source)
            session.log("distilled student test accuracy \(percent(student.report.test.accuracy)), loss \(fixed(student.report.test.loss))")
            guard session.isRoot else { return }
            try Checkpoint.save(student.model, role: .student, to: output,
                                extra: recipe.savedMetadata(dataset: data.source, trainingSeconds: student.report.trainingSeconds))
            session.log("saved \(output)")
            recipe.removeStates(of: .distilledStudent)
            if let metricsJSON { try writeMetrics(student.history, test: student.report.test, to: metricsJSON) }
        }
    }

    /// The recipe on a class-balanced `--train-fraction` of the training set, with the teacher's logits
    /// of those samples (computed, or read, for the whole set first, and picked by original id).
    private func subset(_ recipe: Recipe, _ source: TeacherLogitsSource, settings: RecipeSettings, session: Session) throws
        -> (Recipe, TeacherLogitsSource)
    {
        var rng = SeededGenerator(seed: settings.seed(for: .trainSubset))
        let train = recipe.train
        let ids = classBalancedSubset(labels: train.labels, classes: train.classes, fraction: trainFraction, using: &rng)
        session.log("training on \(ids.count) of \(train.count) samples: a class-balanced \(fixed(100 * trainFraction, 1))% "
            + "(seed \(settings.seed))")
        return (Recipe(settings: settings, communicator: session.communicator, gemm: session.gemm, train: train.subset(ids), test: recipe.test),
                source.restricted(to: ids))
    }
}
