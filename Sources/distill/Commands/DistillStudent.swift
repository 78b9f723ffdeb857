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
    @OptionGroup(title: "Teaching") var teaching: TeachingOptions

    @Option(help: "Where to write the student checkpoint.")
    var output = "student.safetensors"

    @Option(help: ArgumentHelp("Train the student on a seeded, class-balanced fraction of the training set (0 < F <= 1; "
                               + "the teacher's logits still come from, and are indexed by, the whole set).", valueName: "F"), transform: decimal)
    var trainFraction: Double = 1

    @Flag(help: "Run the teacher forward on every batch instead of computing its logits once.")
    var runTeacher = false

    @Option(help: "Also write per-epoch metrics as JSON here (rank 0).")
    var metricsJSON: String?

    @Option(help: ArgumentHelp("Then train the student's scratch twin and save it here: the same initial weights, batch order, training "
                               + "subset, optimizer, schedule and validation split, trained on the labels alone (the sweep's pairing), "
                               + "so the two differ only by the distillation term. Default: none.", valueName: "file"))
    var twinOutput: String?

    func validate() throws {
        guard trainFraction > 0, trainFraction <= 1 else { throw ValidationError("--train-fraction must be in (0, 1], got \(trainFraction)") }
        if let twinOutput, twinOutput == output { throw ValidationError("--twin-output must differ from --output, both are \(output)") }
        if runTeacher, teaching.viewCache != nil {
            throw ValidationError("--run-teacher and --view-cache exclude each other: the teacher runs on every batch, or its views' logits are kept")
        }
    }

    func run() throws {
        Session.run(runtime, resumeHint: checkpoints.resumeHint) { session in
            var settings = try training.settings
            try teaching.apply(to: &settings)
            let bytes = try settings.studentModel.plan().parameterCount * 4
            try checkWritable(output, flag: "--output", bytes: bytes, isRoot: session.isRoot)
            try checkWritable(twinOutput, flag: "--twin-output", bytes: bytes, isRoot: session.isRoot)
            try checkWritable(metricsJSON, flag: "--metrics-json", isRoot: session.isRoot)
            let loaded = try teacher.source(loss: settings.loss, temperature: settings.temperature)
                .load(data: data.source, settings: settings, context: session.context, agreeing: settings.agreement,
                      computeLogits: !runTeacher && !settings.augmentsStudents)
            if let description = loaded.description { settings.teacherModel = description }   // the file's model, whatever --preset says
            session.log("teacher: \(loaded.summary)")
            // Hints checked (a teacher model, layer names, shapes) before any training.
            if let plan = try settings.hintPlan(teacher: loaded.model.map { HintPlan.Side(role: "teacher", model: $0) }, gemm: session.context.gemm) {
                session.log("hints: " + zip(plan.hints, plan.regressors).map { "\($0.canonical) (\($1.map { plan.regressorDescription($0) } ?? "no regressor"))" }
                    .joined(separator: ", "))
            }
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
            // With a twin, a finished student is kept in the checkpoint directory too, so a resume goes on with the twin.
            let kept = { (phase: Phase) in twinOutput == nil ? [] : checkpoints.checkpointDir.map { ["\($0)/\(phase.fileStem).safetensors"] } ?? [] }
            let runner = PhaseRunner(recipe: recipe, context: session.context, dataset: data.source.description,
                                     finishedIn: checkpoints.resume && twinOutput != nil ? checkpoints.checkpointDir : nil)
            let student = try runner.run(.distilledStudent, savingTo: [output] + kept(.distilledStudent), report: session.tested("distilled student")) {
                try recipe.distillStudent(from: picked.teacher, hintTeacher: loaded.model, viewCache: teaching.cache(log: session.log))
            }
            if let metricsJSON, session.isRoot, !student.history.epochs.isEmpty {   // empty: finished earlier, its file already written
                try writeMetrics(student.history, test: student.report.test, to: metricsJSON)
            }
            guard let twinOutput else { return }
            let twin = try runner.run(.scratchTwin, savingTo: [twinOutput] + kept(.scratchTwin), report: session.tested("scratch twin")) {
                try recipe.trainScratchTwin()
            }
            session.log("\n" + resultsTable([student.report, twin.report]))
        }
    }
}
