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
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "The teacher checkpoint (from train-teacher, run --save-directory or keras-roundtrip.py import).")
    var teacher = "teacher.safetensors"

    @Option(name: .customLong("teacher-logits"),
            help: ArgumentHelp("Distil from logits computed elsewhere instead of a teacher checkpoint: a safetensors file with "
                               + "one tensor 'logits' [training samples, classes], row i for training sample i "
                               + "(scripts/keras-roundtrip.py logits writes one from a Keras model).", valueName: "file"))
    var logitsFile: String?

    @Option(help: "Where to write the student checkpoint.")
    var output = "student.safetensors"

    @Option(help: ArgumentHelp("Train the student on a seeded, class-balanced fraction of the training set (0 < F <= 1; "
                               + "the teacher's logits still come from, and are indexed by, the whole set).", valueName: "F"))
    var trainFraction: Double = 1

    @Flag(help: "Run the teacher forward on every batch instead of computing its logits once.")
    var runTeacher = false

    @Flag(inversion: .prefixedNo,
          help: "Keep the teacher's logits in <teacher>.logits.safetensors and reuse them while the teacher and data match.")
    var logitsCache = true

    @Option(help: "Also write per-epoch metrics as JSON here (rank 0).")
    var metricsJSON: String?

    func validate() throws {
        guard trainFraction > 0, trainFraction <= 1 else { throw ValidationError("--train-fraction must be in (0, 1], got \(trainFraction)") }
    }

    func run() throws {
        let session = Session.start(runtime)
        session.run {
            var settings = try training.settings
            try checkWritable(output, bytes: try settings.studentModel.build(gemm: session.gemm).parameterCount * 4,
                              isRoot: session.isRoot)
            try checkWritable(metricsJSON, isRoot: session.isRoot)
            var source: TeacherLogitsSource
            var recipe: Recipe
            if let logitsFile {
                let (train, test) = try data.load(on: session.communicator, agreeing: settings.agreement)
                recipe = Recipe(settings: settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
                try recipe.checkModels([.student])
                let classes = try settings.studentModel.build(gemm: session.gemm).outputSize
                let logits = try TeacherLogitsFile.loadExternal(from: logitsFile, count: train.count, classes: classes)
                var hash = ContentHash()
                hash.mix(UnsafeBufferPointer(logits.table.buffer))
                try session.communicator.checkAgreement([("the teacher logits file \(logitsFile)", hash.value)])
                source = logits
                session.log("teacher logits: \(logitsFile), \(train.count) x \(classes)")
            } else {
                let loaded = try Checkpoint.load(from: teacher, expecting: .teacher, gemm: session.gemm)
                let (train, test) = try data.load(on: session.communicator, agreeing: settings.agreement + [
                    ("the teacher file \(teacher) (\(loaded.summary))", loaded.description.contentHash ^ parameterHash(loaded.model)),
                ])
                // The teacher is the file's model, whatever --preset or --teacher-model say.
                settings.teacherModel = loaded.description
                // Every rank distils from rank 0's copy of the teacher.
                session.communicator.broadcast(loaded.model.parameters.values.buffer, root: 0)
                recipe = Recipe(settings: settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
                try recipe.checkModels([.student], teacher: loaded.model)
                source = runTeacher ? RunningTeacher(loaded.model)
                    : try teacherLogits(loaded.model, teacherPath: logitsCache ? teacher : nil, recipe: recipe, session: session)
            }
            if trainFraction < 1 {
                (recipe, source) = try subset(recipe, source, settings: settings, session: session)
            }
            recipe.observer = session.observer
            let student = try recipe.distillStudent(from: source)
            session.log("distilled student test accuracy \(percent(student.report.test.accuracy)), loss \(fixed(student.report.test.loss))")
            guard session.isRoot else { return }
            try Checkpoint.save(student.model, role: .student, to: output,
                                extra: recipe.savedMetadata(dataset: data.source, trainingSeconds: student.report.trainingSeconds))
            session.log("saved \(output)")
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
