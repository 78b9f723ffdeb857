import ArgumentParser
import Distill
import Foundation

/// Training-state checkpoints and resume, for every command that trains (run, train-teacher, distill-student).
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Directory for training-state checkpoints (the same path on every node; run also keeps each finished phase's model there). Default: none.")
    var checkpointDir: String?

    @Option(help: "Steps between training-state checkpoints, in 1...100000000. Default: the end of each epoch.")
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

    /// How the session's recipe saves and resumes; nil without --checkpoint-dir. Rank 0 creates the directory.
    func recipeCheckpoints(_ session: Session) throws -> RecipeCheckpoints? {
        guard let checkpointDir else { return nil }
        if session.isRoot { try FileManager.default.createDirectory(atPath: checkpointDir, withIntermediateDirectories: true) }
        return RecipeCheckpoints(directory: checkpointDir, every: checkpointEvery, resume: resume,
                                 stopRequested: { session.stop.isRequested }, log: session.log)
    }

    /// What a stopped command prints about resuming.
    var resumeHint: String? { checkpointDir.map { "state in \($0)" } }
}

extension Session {
    /// `recipe` with its progress printed and its states saved as `checkpoints` says.
    func observed(_ recipe: Recipe, checkpoints: CheckpointOptions) throws -> Recipe {
        var recipe = recipe
        recipe.observer = observer
        recipe.checkpoints = try checkpoints.recipeCheckpoints(self)
        return recipe
    }
}
