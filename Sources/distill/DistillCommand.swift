import ArgumentParser

@main
struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Knowledge distillation on MNIST (the Keras recipe), single process or data-parallel under mpirun.",
        discussion: """
            With no subcommand, runs the whole recipe: trains the teacher, distils the student from the \
            teacher's logits, trains the same student from scratch, and prints the three side by side.
            Under mpirun every rank takes a contiguous slice of each global batch and gradients are summed \
            with MPI allreduce; only rank 0 prints and writes files.
            """,
        subcommands: [Run.self, TrainTeacher.self, DistillStudent.self, Evaluate.self, Bench.self],
        defaultSubcommand: Run.self)
}
