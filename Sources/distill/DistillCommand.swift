import ArgumentParser
import Distill

@main
struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Knowledge distillation of Keras Sequential models (the Keras recipe on MNIST by default), single process or data-parallel under mpirun or srun.",
        discussion: """
            With no subcommand, runs the whole recipe: trains the teacher, distils the student from the \
            teacher's logits, trains the same student from scratch, and prints the three side by side.
            Under mpirun every rank takes a contiguous slice of each global batch and gradients are summed \
            with MPI allreduce; only rank 0 prints and writes files. Models come from Keras JSON \
            (--teacher-model, --student-model) or the presets; data from IDX files or a Keras .npz archive.
            """,
        version: SwiftDistill.version,
        subcommands: [Run.self, TrainTeacher.self, DistillStudent.self, Sweep.self, Evaluate.self, Bench.self, Summary.self],
        defaultSubcommand: Run.self)
}
