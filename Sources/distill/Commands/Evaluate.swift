import ArgumentParser
import Distill

/// Evaluates a saved model on the test set.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a saved teacher or student on the test set.")

    @OptionGroup var data: DataOptions
    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "The checkpoint to evaluate.")
    var model: String

    @Option(help: "Batch size for evaluation.")
    var batchSize = 32

    func validate() throws {
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...65536, got \(batchSize)") }
    }

    func run() throws {
        Session.run(runtime, announce: false) { session in
            let loaded = try Checkpoint.load(from: model, gemm: session.gemm)
            let test = try data.source.load(.test)
            try checkSameDataOnEveryRank([("the test data", test)], also: [
                ("the model file \(model) (\(loaded.summary))",
                 loaded.description.contentHash ^ Fingerprint.text(loaded.role.rawValue) ^ Fingerprint.parameters(loaded.model)),
            ], communicator: session.communicator)
            try ModelCompatibility.checkEvaluable(loaded.model, on: test, source: model)
            session.communicator.broadcast(loaded.model.parameters.values.buffer, root: 0)
            let result = try Evaluation.run(loaded.model, on: test, batchSize: batchSize, communicator: session.communicator)
            session.log("\(model): \(loaded.summary), \(loaded.model.parameterCount) parameters, "
                + "test accuracy \(percent(result.accuracy)), loss \(fixed(result.loss)) on \(result.count) samples")
        }
    }
}
