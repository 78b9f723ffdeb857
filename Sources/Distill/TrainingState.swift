import Foundation
import NN

/// The complete state of a recipe phase in training, as one safetensors file: the weights, the
/// optimizer's slots (Adam's moments) and step count, and the fit's position (epoch, step, shuffling generator, metric sums,
/// finished epochs), with the phase, the settings and a checksum of everything in the metadata.
/// Written by rank 0 at step boundaries, atomically; the newest two per phase are kept.
public struct TrainingState {
    public static let format = "swift-distill-state/1"

    public var phase: String            // "teacher", "student-distilled", "student-scratch"
    public var settings: String         // RecipeSettings.summary: a resume must use the same
    /// What the phase trains on, by name ("training data", "teacher"): a resume must train on the same.
    public var fingerprint: [String: String]
    public var ranks: Int               // the job that wrote it (a resume on another count says so)
    public var position: FitPosition
    public var parameters: [NamedTensor]
    public var optimizer: SavedOptimizer
    /// With a validation split: the best epoch's weights (`position.best` says which), one per parameter.
    public var bestWeights: [Float]?

    /// An optimizer's state as saved: its `Optimizer.stateName`, its updates, its slots by name.
    public struct SavedOptimizer: Equatable {
        public var stateName: String
        public var iterations: Int
        public var slots: [(name: String, values: [Float])]

        public static func == (a: Self, b: Self) -> Bool {
            a.stateName == b.stateName && a.iterations == b.iterations
                && a.slots.map(\.name) == b.slots.map(\.name) && a.slots.map(\.values) == b.slots.map(\.values)
        }

        /// Adam's sections carry no names of their own (the first form of the file); others name their slots.
        var isAdam: Bool { stateName == "adam" && slots.map(\.name) == ["m", "v"] }
        var what: String { isAdam ? "Adam moments" : "\(stateName) slots (\(slots.map(\.name).joined(separator: ", ")))" }
    }

    /// The state of `model` and `optimizer` at `position`.
    public init(phase: String, settings: String, fingerprint: [String: String] = [:], ranks: Int, position: FitPosition,
                model: Sequential, optimizer: Optimizer, bestWeights: [Float]? = nil) {
        (self.phase, self.settings, self.fingerprint, self.ranks, self.position) = (phase, settings, fingerprint, ranks, position)
        parameters = model.parameters.namedTensors()
        self.bestWeights = bestWeights
        self.optimizer = SavedOptimizer(stateName: optimizer.stateName, iterations: optimizer.iterations,
                                        slots: zip(optimizer.slotNames, optimizer.slots).map { ($0, $1.array) })
    }

    /// Puts the weights and the optimizer's state back into `model` and `optimizer`.
    public func restore(into model: Sequential, optimizer target: Optimizer, source: String) throws {
        try model.parameters.load(parameters, source: source)
        guard optimizer.stateName == target.stateName, optimizer.slots.map(\.name) == target.slotNames else {
            throw CheckpointError(path: source, "holds the state of optimizer \(optimizer.stateName) with \(optimizer.what), "
                + "not of this run's \(target.stateName) (\(target.slotNames.joined(separator: ", ")))")
        }
        if let slot = optimizer.slots.first(where: { $0.values.count != model.parameterCount }), optimizer.iterations != 0 {
            throw CheckpointError(path: source, "holds \(optimizer.what) of \(slot.values.count) values for a model of \(model.parameterCount)")
        }
        target.restore(iterations: optimizer.iterations, slots: optimizer.slots.map(\.values))
    }

    /// The file name: phase and a step number that grows through the phase, so names sort by age.
    func fileName(stepsPerEpoch: Int) -> String {
        let sequence = (position.epoch - 1) * stepsPerEpoch + position.step
        return "state-\(phase)-\(String(repeating: "0", count: max(0, 12 - String(sequence).count)))\(sequence).safetensors"
    }

    /// Writes this state into `directory` and removes the phase's older states but the newest two.
    @discardableResult
    public func save(in directory: String, stepsPerEpoch: Int) throws -> String {
        let path = (directory as NSString).appendingPathComponent(fileName(stepsPerEpoch: stepsPerEpoch))
        var metadata = [
            "format": Self.format, "phase": phase, "settings": settings, "ranks": "\(ranks)",
            "\(optimizer.stateName)_iterations": "\(optimizer.iterations)", "epoch": "\(position.epoch)", "step": "\(position.step)",
            "generator": String(position.generator, radix: 16), "totals": Self.encode(position.totals), "seen": "\(position.seen)",
            "epochs": position.epochs.map(Self.encode).joined(separator: ";"), "epoch_seconds": Self.encode(position.epochSeconds),
        ].merging(fingerprint.map { (Self.fingerprintPrefix + $0.key, $0.value) }) { fixed, _ in fixed }
        if let best = position.best {
            metadata["best"] = "\(best.epoch),\(Self.encode([best.value])),\(best.wait)"
        }
        if !optimizer.isAdam {
            metadata["optimizer"] = optimizer.stateName
            metadata["optimizer_slots"] = optimizer.slots.map(\.name).joined(separator: ",")
        }
        let tensors = parameters + optimizer.slots.map {
            NamedTensor(name: "\(optimizer.stateName).\($0.name)", shape: [$0.values.count], values: $0.values)
        } + (bestWeights.map { [NamedTensor(name: Self.bestWeightsName, shape: [$0.count], values: $0)] } ?? [])
        try SafeTensors.writeChecksummed(tensors, metadata: metadata, to: path)
        for old in Self.files(in: directory, phase: phase).dropLast(2) { try? FileManager.default.removeItem(atPath: old) }
        return path
    }

    /// The phase's state files in `directory`, oldest first.
    public static func files(in directory: String, phase: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("state-\(phase)-") && $0.hasSuffix(".safetensors") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    static let fingerprintPrefix = "fingerprint."
    static let bestWeightsName = "validation.best_weights"

    /// The newest state of `phase` in `directory` that reads back intact, with the files skipped
    /// (damaged, or of another format) and why. A state made with other settings, or for other data
    /// or another teacher, is an error (`StateMismatch`), not a reason to take an older one.
    public static func newest(in directory: String, phase: String, settings: String, fingerprint: [String: String] = [:]) throws
        -> (state: TrainingState, path: String, skipped: [String])?
    {
        var skipped: [String] = []
        for path in files(in: directory, phase: phase).reversed() {
            let state: TrainingState
            do {
                state = try load(path)
            } catch let error as CheckpointError {
                skipped.append("\(path): \(error.message)")
                continue
            }
            guard state.settings == settings else {
                throw StateMismatch(path: path, what: "other settings", theirs: state.settings, ours: settings)
            }
            for key in Set(fingerprint.keys).union(state.fingerprint.keys).sorted() where state.fingerprint[key] != fingerprint[key] {
                throw StateMismatch(path: path, what: "other \(key)", theirs: state.fingerprint[key] ?? "not recorded",
                                    ours: fingerprint[key] ?? "none")
            }
            return (state, path, skipped)
        }
        return nil
    }

    /// A state that is intact but belongs to another run.
    public struct StateMismatch: Error, CustomStringConvertible {
        public let path: String, what: String, theirs: String, ours: String
        public var description: String {
            "\(path): was written with \(what) (\(theirs)), not this run's (\(ours)); resume with the same flags and files, "
                + "or use another --checkpoint-dir"
        }
    }

    /// Reads and verifies one state file.
    public static func load(_ path: String) throws -> TrainingState {
        let (tensors, metadata) = try SafeTensors.read(from: path)
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message) }
        guard metadata["format"] == format else { throw fail("is not a training state (format \(metadata["format"] ?? "missing"))") }
        guard SafeTensors.checksumMatches(tensors, metadata) == true else { throw fail("its contents do not match their checksum") }
        // A state without an "optimizer" entry is Adam's, whose sections were named before there were others.
        let stateName = metadata["optimizer"] ?? "adam"
        let slotNames = metadata["optimizer_slots"].map { $0.split(separator: ",").map(String.init) } ?? (stateName == "adam" ? ["m", "v"] : [])
        guard Specification.isName(Substring(stateName), lowercase: true),
              slotNames.allSatisfy({ Specification.isName(Substring($0), lowercase: true) }), Set(slotNames).count == slotNames.count,
              let phase = metadata["phase"], let settings = metadata["settings"], let ranks = metadata["ranks"].flatMap(Int.init),
              let iterations = metadata["\(stateName)_iterations"].flatMap(Int.init), let epoch = metadata["epoch"].flatMap(Int.init),
              let step = metadata["step"].flatMap(Int.init), let generator = metadata["generator"].flatMap({ UInt64($0, radix: 16) }),
              let totals = metadata["totals"].flatMap(decode), let seen = metadata["seen"].flatMap(Int.init),
              let seconds = metadata["epoch_seconds"].flatMap(decode), let epochText = metadata["epochs"]
        else { throw fail("lacks a field of the training state") }
        let slotTensorNames = slotNames.map { "\(stateName).\($0)" }
        let slots = slotTensorNames.compactMap { name in tensors.first { $0.name == name } }
        guard slots.count == slotNames.count else { throw fail("lacks a field of the training state") }
        let parameters = tensors.filter { !slotTensorNames.contains($0.name) && $0.name != bestWeightsName }
        let bestWeights = tensors.first { $0.name == bestWeightsName }?.values
        var best: ValidationMonitor.BestEpoch?
        if let text = metadata["best"] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 3, let epoch = Int(parts[0]), let value = decode(String(parts[1]))?.first, let wait = Int(parts[2]),
                  bestWeights != nil else { throw fail("has an unreadable best epoch '\(text)'") }
            best = ValidationMonitor.BestEpoch(epoch: epoch, value: value, wait: wait)
        }
        let parameterCount = parameters.reduce(0) { $0 + $1.values.count }
        let optimizer = SavedOptimizer(stateName: stateName, iterations: iterations, slots: zip(slotNames, slots).map { ($0, $1.values) })
        guard slots.allSatisfy({ $0.values.count == slots[0].values.count && ($0.values.count == parameterCount || iterations == 0) }) else {
            throw fail("holds \(optimizer.what) of \(slots.map { "\($0.values.count)" }.joined(separator: " and ")) values for \(parameterCount) parameters")
        }
        if let bestWeights, bestWeights.count != parameterCount || best == nil {
            throw fail("holds best weights of \(bestWeights.count) values for \(parameterCount) parameters\(best == nil ? " and no best epoch" : "")")
        }
        for tensor in parameters + slots + tensors.filter({ $0.name == bestWeightsName }) {
            if let bad = tensor.values.withUnsafeBufferPointer(firstNonFinite) {
                throw fail("tensor '\(tensor.name)' holds \(bad.value) at index \(bad.index); the state is not usable")
            }
        }
        let epochs: [[Double]] = epochText.isEmpty ? [] : try epochText.split(separator: ";", omittingEmptySubsequences: false).map {
            guard let values = decode(String($0)) else { throw fail("has unreadable epoch metrics") }
            return values
        }
        var fingerprint: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix(fingerprintPrefix) { fingerprint[String(key.dropFirst(fingerprintPrefix.count))] = value }
        return TrainingState(phase: phase, settings: settings, fingerprint: fingerprint, ranks: ranks,
                             position: FitPosition(epoch: epoch, step: step, generator: generator, totals: totals, seen: seen,
                                                   epochs: epochs, epochSeconds: seconds, best: best),
                             parameters: parameters, optimizer: optimizer, bestWeights: bestWeights)
    }

    private init(phase: String, settings: String, fingerprint: [String: String], ranks: Int, position: FitPosition,
                 parameters: [NamedTensor], optimizer: SavedOptimizer, bestWeights: [Float]?) {
        (self.phase, self.settings, self.fingerprint, self.ranks, self.position) = (phase, settings, fingerprint, ranks, position)
        (self.parameters, self.optimizer, self.bestWeights) = (parameters, optimizer, bestWeights)
    }

    /// Doubles exactly, as hex bit patterns.
    static func encode(_ values: [Double]) -> String { values.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }

    static func decode(_ text: String) -> [Double]? {
        if text.isEmpty { return [] }
        let values = text.split(separator: ",").compactMap { UInt64($0, radix: 16).map(Double.init(bitPattern:)) }
        return values.count == text.split(separator: ",").count ? values : nil
    }
}
