import ArgumentParser
import Distill

/// Where the teacher's knowledge comes from: teacher checkpoints (their logits computed once,
/// data-parallel, or reused from their cache) or logits computed elsewhere; several are combined.
struct TeacherOptions: ParsableArguments {
    @Option(name: .customLong("teacher"),
            help: ArgumentHelp("The teacher checkpoint (from train-teacher, run --save-directory or keras-roundtrip.py import); repeat "
                               + "it (and --teacher-logits) for several teachers, combined as --ensemble says. Default: teacher.safetensors "
                               + "when no --teacher-logits is given.", valueName: "file"))
    var teachers: [String] = []

    @Option(name: .customLong("teacher-logits"),
            help: ArgumentHelp("Use logits computed elsewhere instead of a teacher checkpoint: a safetensors "
                               + "file with one tensor 'logits', or a NumPy .npy array (float32 or float64), of [training samples, classes], "
                               + "row i for training sample i "
                               + "(scripts/keras-roundtrip.py logits writes one from a Keras model). Repeatable, as --teacher.", valueName: "file"))
    var logitsFiles: [String] = []

    @Option(name: .customLong("teacher-weights"),
            help: ArgumentHelp("With several teachers, their positive weights, comma-separated, in the order: every --teacher, then every "
                               + "--teacher-logits. Default: equal.", valueName: "list"))
    var weights: String?

    @Option(help: ArgumentHelp("With several teachers, what is averaged: logits (their weighted mean) or probabilities (the weighted mean "
                               + "of their softmaxes at the loss's temperature, T log of which is the teacher's logits; not with :standardize).",
                               valueName: "logits|probabilities"))
    var ensemble: EnsembleMode = .logits

    @Flag(inversion: .prefixedNo,
          help: "Keep each teacher's logits in <teacher>.logits.safetensors and reuse them while the teacher and data match.")
    var logitsCache = true

    enum EnsembleMode: String, ExpressibleByArgument { case logits, probabilities }

    /// Every teacher named, checkpoints first, then logits files.
    var members: [TeacherSource] {
        let checkpoints = teachers.isEmpty && logitsFiles.isEmpty ? ["teacher.safetensors"] : teachers
        return checkpoints.map { .checkpoint($0, cacheLogits: logitsCache) } + logitsFiles.map { .logitsFile($0) }
    }

    /// `--teacher-weights` as numbers (nil where one is not a number); equal weights when not given.
    private var parsedWeights: [Double?] {
        weights.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { DecimalNumber.parse(String($0), as: Double.self) } }
            ?? Array(repeating: 1, count: members.count)
    }

    func validate() throws {
        guard members.count > 1 else {
            if weights != nil { throw ValidationError("--teacher-weights needs several teachers (--teacher or --teacher-logits repeated)") }
            return
        }
        guard parsedWeights.count == members.count, parsedWeights.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--teacher-weights must be \(members.count) positive numbers, one per teacher, comma-separated; got '\(weights ?? "")'")
        }
    }

    /// The teacher, or the ensemble of several; `loss` and `temperature` (the recipe's) give the probabilities' temperature.
    func source(loss: String, temperature: Float) throws -> TeacherSource {
        let members = self.members
        guard members.count > 1 else { return members[0] }
        let weights = parsedWeights.map { $0! }   // checked by validate()
        switch ensemble {
        case .logits:
            return .ensemble(members, weights: weights, combination: .logits)
        case .probabilities:
            let softening = try LossRegistry.softening(loss, temperature: temperature)
            guard !softening.standardizes else {
                throw CommandError("--ensemble probabilities: --loss \(loss) z-scores each teacher's logits, which a mean of probabilities "
                    + "does not keep; use --ensemble logits")
            }
            return .ensemble(members, weights: weights, combination: .probabilities(temperature: Double(softening.temperature)))
        }
    }
}
