import ArgumentParser

/// Training-state checkpoints and resume for the recipe.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Directory for training-state checkpoints and each finished phase's model (the same path on every node). Default: none.")
    var checkpointDir: String?

    @Option(help: "Steps between training-state checkpoints. Default: the end of each epoch.")
    var checkpointEvery: Int?

    @Flag(help: "Continue from --checkpoint-dir: finished phases are reused, the interrupted one continues at its step.")
    var resume = false

    func validate() throws {
        if let every = checkpointEvery, !(1...100_000_000).contains(every) {
            throw ValidationError("--checkpoint-every must be in 1...100000000 steps, got \(every)")
        }
        if resume && checkpointDir == nil { throw ValidationError("--resume needs --checkpoint-dir, the directory to resume from") }
        if checkpointEvery != nil && checkpointDir == nil { throw ValidationError("--checkpoint-every needs --checkpoint-dir") }
    }
}
