import ArgumentParser
import Distill
import Foundation

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
    @OptionGroup(title: "Teaching") var teaching: TeachingOptions

    @Option(help: "Also save the three models as safetensors files in this directory (rank 0).")
    var saveDirectory: String?

    func run() throws {
        Session.run(runtime, resumeHint: checkpoints.resumeHint) { session in
            var settings = try training.settings
            try teaching.apply(to: &settings)
            let (context, source) = (session.context, data.source)
            // Hints checked against the teacher's model file (layer names, shapes) before the teacher trains.
            _ = try settings.hintPlan(teacher: HintPlan.Side(role: "teacher", plan: settings.teacherModel.plan()), gemm: context.gemm)
            let bytes = try Phase.recipe.map { try settings.model($0.role).plan().parameterCount * 4 }.reduce(0, +)
            try PhaseRunner.checkDirectories([saveDirectory, checkpoints.checkpointDir].compactMap { $0 }, checkpointDirectory: checkpoints.checkpointDir,
                                             phases: Phase.recipe, bytes: bytes, isRoot: session.isRoot)
            let (train, test) = try source.load(on: session.communicator, agreeing: settings.agreement)
            session.log("data: \(source.description): \(train.count) training, \(test.count) test samples, \(train.sampleShape.map(String.init).joined(separator: " x ")), \(train.classes) classes")
            let recipe = try session.heldOut(try session.observed(session.context.recipe(settings, train: train, test: test), checkpoints: checkpoints))
            try recipe.checkModels([.teacher, .student])
            let runner = PhaseRunner(recipe: recipe, context: context, dataset: source.description,
                                     finishedIn: checkpoints.resume ? checkpoints.checkpointDir : nil)
            let paths = { (phase: Phase) in [checkpoints.checkpointDir, saveDirectory].compactMap { $0.map { "\($0)/\(phase.fileStem).safetensors" } } }

            session.log("\n== teacher: \(epochs(training.teacherEpochs))")
            let teacher = try runner.run(.teacher, savingTo: paths(.teacher), report: session.tested("teacher")) { try recipe.trainTeacher() }
            let logits = try teachingSource(teacher.model, teacherPath: checkpoints.checkpointDir.map { "\($0)/teacher.safetensors" },
                                           recipe: recipe, context: context)
            session.log("\n== student distilled from the teacher: \(epochs(training.studentEpochs)), alpha \(training.alpha), T \(training.temperature)")
            let distilled = try runner.run(.distilledStudent, savingTo: paths(.distilledStudent), report: session.tested("distilled student")) {
                try recipe.distillStudent(from: logits, hintTeacher: teacher.model, viewCache: teaching.cache(log: session.log))
            }
            session.log("\n== student from scratch: \(epochs(training.studentEpochs))")
            let scratch = try runner.run(.scratchStudent, savingTo: paths(.scratchStudent), report: session.tested("scratch student")) {
                try recipe.trainScratchStudent()
            }
            session.log("\n" + resultsTable([teacher.report, distilled.report, scratch.report]))
            if let directory = runtime.metricsDir, session.isRoot { session.drawLearningCurves(in: directory) }
        }
    }
}
