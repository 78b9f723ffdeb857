import Foundation
import NN
import TestSupport
import XCTest
@testable import Distill

/// Seeded fuzzing of the readers of the files a run leaves behind: training states, cached teacher
/// logits and model checkpoints. Seeds come from the real writers; inputs are byte mutations of
/// them and rewrites (through `SafeTensors.write`) with a metadata field or a tensor made wrong.
/// Every input loads or throws an error naming the file; none traps.
final class StateFileFuzzTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("StateFileFuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: TrainingState

    func testTrainingStateLoad() throws {
        let start = Date()
        let seeds = try (0..<2).map { try stateSeed($0) }
        let raw = try seeds.map { try readBytes($0.path) }
        var rng = FuzzRandom(seed: 0x57A7_0001)
        var mutator = Mutator(seed: 0x57A7_0002)
        var stages = FuzzStages()
        var problems = FuzzProblems()
        var accepted: [String: Int] = [:]  // odd inputs that loaded

        for index in 0..<600 {
            let s = rng.below(seeds.count)
            let seed = seeds[s]
            let path = "\(directory)/state-\(index).safetensors"
            defer { try? FileManager.default.removeItem(atPath: path) }
            var kind: String
            var mustFail = false, byteMutation = false
            if index % 12 < 5 {
                kind = "byte mutation"
                byteMutation = true
                let bytes = mutator.mutate(raw[s], donors: raw, focus: [0..<(8 + headerLength(raw[s]))])
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            } else {
                var (tensors, metadata) = (seed.tensors, seed.metadata)
                let resign = rng.chance(0.5)
                if rng.chance(0.6) {
                    let fields = ["format", "checksum", "phase", "settings", "ranks", "adam_iterations", "epoch", "step",
                                  "generator", "totals", "seen", "epochs", "epoch_seconds"]
                    kind = Self.changeMetadata(&metadata, fields: fields, &rng)
                } else {
                    kind = Self.changeTensors(&tensors, &rng)
                }
                if resign {
                    // A checksum that matches the change: the file then reaches the field checks.
                    metadata["checksum"] = nil
                    metadata["checksum"] = SafeTensors.checksum(tensors, metadata)
                    kind += ", checksum redone"
                } else {
                    // The old checksum: any change of names, values or metadata must be caught (shapes are not covered).
                    mustFail = metadata != seed.metadata || tensors.map(\.name) != seed.tensors.map(\.name)
                        || tensors.map { $0.values.map(\.bitPattern) } != seed.tensors.map { $0.values.map(\.bitPattern) }
                }
                try SafeTensors.write(tensors, metadata: metadata, to: path)
            }

            let label = "input \(index) (\(kind))"
            do {
                let state = try TrainingState.load(path)
                stages.record(byteMutation ? "loaded: byte mutation" : "loaded")
                if mustFail { problems.add("\(label): loaded, but its content changed under the old checksum") }
                let sameAsSeed = seeds.contains { Self.same(state, $0.state) }
                if byteMutation && !sameAsSeed { problems.add("\(label): a byte mutation changed the content and still loaded") }
                if !sameAsSeed { accepted[kind, default: 0] += 1 }
                if Set(state.optimizer.slots.map(\.values.count)).count > 1 { accepted["(Adam m and v of different sizes)", default: 0] += 1 }
            } catch {
                stages.record(Self.stage(error, [("format", ["is not a training state"]), ("checksum", ["do not match their checksum"]),
                                                 ("fields", ["lacks a field"]), ("epochs", ["unreadable epoch metrics"])]))
                problems.checkNames(error, path, label)
            }
        }
        finish(stages, problems, accepted, title: "TrainingState.load", start: start,
               deep: ["checksum", "fields", "epochs", "loaded", "loaded: byte mutation"])
    }

    /// A small model after one Adam step, at a fit position; saved by `TrainingState.save`.
    func stateSeed(_ n: Int) throws -> (path: String, state: TrainingState, tensors: [NamedTensor], metadata: [String: String]) {
        let model = try Self.model(seed: UInt64(10 + n))
        let adam = Adam()
        for i in 0..<model.parameters.count { model.parameters.gradients.pointer[i] = Float(i % 7) - 3 }
        adam.update(model.parameters)
        let position = FitPosition(epoch: 2 + n, step: 3, generator: 0x1234_5678_9ABC_DEF0 &+ UInt64(n),
                                   totals: [1.5, 0.25, 96], seen: 96, epochs: n == 0 ? [] : [[0.5, 0.875], [0.25, 0.9375]],
                                   epochSeconds: n == 0 ? [] : [1.5, 2.25])
        let state = TrainingState(phase: "teacher", settings: "fuzz settings \(n)", ranks: 1 + n, position: position,
                                  model: model, optimizer: adam)
        let seedDirectory = "\(directory)/seed-\(n)"
        try FileManager.default.createDirectory(atPath: seedDirectory, withIntermediateDirectories: true)
        let path = try state.save(in: seedDirectory, stepsPerEpoch: 10)
        let (tensors, metadata) = try SafeTensors.read(from: path)
        return (path, try TrainingState.load(path), tensors, metadata)
    }

    /// Bit for bit the same state.
    static func same(_ a: TrainingState, _ b: TrainingState) -> Bool {
        func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }
        return a.phase == b.phase && a.settings == b.settings && a.ranks == b.ranks && a.position == b.position
            && a.optimizer.stateName == b.optimizer.stateName && a.optimizer.iterations == b.optimizer.iterations
            && a.optimizer.slots.map(\.name) == b.optimizer.slots.map(\.name)
            && a.optimizer.slots.map { bits($0.values) } == b.optimizer.slots.map { bits($0.values) }
            && a.parameters.map(\.name) == b.parameters.map(\.name) && a.parameters.map(\.shape) == b.parameters.map(\.shape)
            && a.parameters.map { bits($0.values) } == b.parameters.map { bits($0.values) }
    }

    // MARK: TeacherLogitsFile

    func testTeacherLogitsLoad() throws {
        let start = Date()
        let (count, classes, fingerprint) = (6, 10, "fp-0123456789abcdef")
        var rng = FuzzRandom(seed: 0x106_0001)
        var mutator = Mutator(seed: 0x106_0002)
        var seeds: [(path: String, table: [Float], bytes: [UInt8])] = []
        for n in 0..<3 {
            let table = FloatBuffer(count: count * classes)
            for i in 0..<table.count { table.pointer[i] = Float(rng.inRange(-4000...4000)) / 256 }
            let path = "\(directory)/seed-\(n).logits.safetensors"
            try TeacherLogitsFile.save(CachedTeacherLogits(table: table, classes: classes), fingerprint: fingerprint, to: path)
            seeds.append((path, table.array, try readBytes(path)))
        }
        var stages = FuzzStages()
        var problems = FuzzProblems()
        var accepted: [String: Int] = [:]

        for index in 0..<600 {
            let s = rng.below(seeds.count)
            let path = "\(directory)/logits-\(index).safetensors"
            defer { try? FileManager.default.removeItem(atPath: path) }
            var kind: String
            var mustMiss = false, byteMutation = false
            var (askCount, askClasses) = (count, classes)
            if index % 12 < 5 {
                kind = "byte mutation"
                byteMutation = true
                let bytes = mutator.mutate(seeds[s].bytes, donors: seeds.map { $0.bytes }, focus: [0..<(8 + headerLength(seeds[s].bytes))])
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            } else {
                var tensors = [NamedTensor(name: "logits", shape: [count, classes], values: seeds[s].table)]
                var metadata = ["fingerprint": fingerprint, "checksum": Self.logitsChecksum(seeds[s].table)]
                switch rng.below(5) {
                case 0, 1:
                    kind = Self.changeMetadata(&metadata, fields: ["fingerprint", "checksum"], &rng)
                    mustMiss = metadata["fingerprint"] != fingerprint || metadata["checksum"] != Self.logitsChecksum(seeds[s].table)
                case 2, 3:
                    kind = Self.changeTensors(&tensors, &rng)
                    if rng.chance(0.5), let logits = tensors.first(where: { $0.name == "logits" }) {
                        metadata["checksum"] = Self.logitsChecksum(logits.values)
                        kind += ", checksum redone"
                    }
                    // Loadable only as one finite [count, classes] "logits" tensor that matches the checksum.
                    mustMiss = !(tensors.count == 1 && tensors[0].name == "logits" && tensors[0].shape == [count, classes]
                        && metadata["checksum"] == Self.logitsChecksum(tensors[0].values) && tensors[0].values.allSatisfy(\.isFinite))
                default:
                    (askCount, askClasses) = rng.pick([(count - 1, classes), (count, classes + 1), (classes, count), (count * classes, 1)])
                    kind = "asked for [\(askCount), \(askClasses)]"
                    mustMiss = true
                }
                try SafeTensors.write(tensors, metadata: metadata, to: path)
            }

            let label = "input \(index) (\(kind))"
            do {
                switch try TeacherLogitsFile.load(from: path, fingerprint: fingerprint, count: askCount, classes: askClasses) {
                case .success(let logits):
                    stages.record(byteMutation ? "loaded: byte mutation" : "loaded")
                    let same = seeds.contains { $0.table.map(\.bitPattern) == logits.table.array.map(\.bitPattern) }
                    if mustMiss { problems.add("\(label): loaded a changed file") }
                    if byteMutation && !same { problems.add("\(label): a byte mutation changed the logits and still loaded") }
                    if !same { accepted[kind, default: 0] += 1 }
                    if logits.count != askCount || logits.classes != askClasses { problems.add("\(label): loaded \(logits.count) x \(logits.classes)") }
                case .failure(let miss):
                    switch miss {
                    case .absent: stages.record("absent (unreadable)")
                    case .stale: stages.record("stale")
                    case .damaged(let why): stages.record(why.contains("checksum") ? "damaged: checksum" : "damaged: shape")
                    }
                }
            } catch {
                stages.record(Self.stage(error, [("non-finite", ["delete the file to recompute it"])]))
                problems.checkNames(error, path, label)
            }
        }
        finish(stages, problems, accepted, title: "TeacherLogitsFile.load", start: start,
               deep: ["damaged: checksum", "damaged: shape", "non-finite", "loaded", "loaded: byte mutation"])
    }

    static func logitsChecksum(_ values: [Float]) -> String {
        values.withUnsafeBufferPointer { TeacherLogitsFile.checksum($0) }
    }

    // MARK: Checkpoint

    func testCheckpointLoad() throws {
        let start = Date()
        var seeds: [(path: String, architecture: Architecture, tensors: [NamedTensor], metadata: [String: String], bytes: [UInt8])] = []
        for (n, architecture) in [Architecture.keras, .hidden, .keras].enumerated() {
            let model = try architecture.model(.student, gemm: Fixture.gemm)
            var generator = SeededGenerator(seed: UInt64(20 + n))
            model.parameters.initialize(using: &generator)
            let path = "\(directory)/seed-\(n).safetensors"
            if n == 2 {
                // As files were written before they carried their model: a preset's name instead.
                try SafeTensors.write(model.parameters.namedTensors(),
                                      metadata: ["format": Checkpoint.format, "architecture": architecture.rawValue, "role": "student"], to: path)
            } else {
                try Checkpoint.save(model, role: .student, to: path, extra: ["settings": "fuzz \(n)", "seconds": "1.5"])
            }
            let (tensors, metadata) = try SafeTensors.read(from: path)
            seeds.append((path, architecture, tensors, metadata, try readBytes(path)))
        }
        var rng = FuzzRandom(seed: 0xC4EC_0001)
        var mutator = Mutator(seed: 0xC4EC_0002)
        var stages = FuzzStages()
        var problems = FuzzProblems()
        var accepted: [String: Int] = [:]

        for index in 0..<600 {
            let s = rng.below(seeds.count)
            let seed = seeds[s]
            let path = "\(directory)/model-\(index).safetensors"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let expecting: ModelRole? = rng.pick([.student, .student, .student, nil, nil, .teacher])
            var kind: String
            var tensors = seed.tensors, metadata = seed.metadata
            if index % 12 < 5 {
                kind = "byte mutation"
                let bytes = mutator.mutate(seed.bytes, donors: seeds.map { $0.bytes }, focus: [0..<(8 + headerLength(seed.bytes))])
                try Data(bytes).write(to: URL(fileURLWithPath: path))
            } else {
                if rng.chance(0.5) {
                    kind = Self.changeMetadata(&metadata, fields: ["format", "architecture", "model", "role", "settings", "checksum"], &rng)
                } else {
                    kind = Self.changeTensors(&tensors, &rng)
                }
                if metadata["checksum"] != nil, rng.chance(0.75) {
                    // Signed anew (as a writer that means it would), so the checks behind the checksum are reached.
                    metadata["checksum"] = nil
                    try SafeTensors.writeChecksummed(tensors, metadata: metadata, to: path)
                } else {
                    kind += seed.metadata["checksum"] == nil ? "" : ", checksum not renewed"
                    try SafeTensors.write(tensors, metadata: metadata, to: path)
                }
            }

            let label = "input \(index) (\(kind), expecting \(expecting?.rawValue ?? "any"))"
            do {
                let loaded = try Checkpoint.load(from: path, expecting: expecting, gemm: Fixture.gemm)
                stages.record(kind == "byte mutation" ? "loaded: byte mutation" : "loaded")
                let values = loaded.model.parameters.values.array
                if values.contains(where: { !$0.isFinite }) { problems.add("\(label): loaded non-finite weights") }
                if let expecting, loaded.role != expecting { problems.add("\(label): loaded a \(loaded.role), expected a \(expecting)") }
                if kind != "byte mutation" {
                    // A rewrite loads only if the model is the one written, tensor for tensor.
                    let written = loaded.model.parameters.namedTensors()
                    let byName = Dictionary(tensors.map { ($0.name, $0) }) { first, _ in first }
                    if written.contains(where: { byName[$0.name]?.shape != $0.shape
                        || byName[$0.name]?.values.map(\.bitPattern) != $0.values.map(\.bitPattern) }) || written.count != tensors.count {
                        problems.add("\(label): loaded weights other than the file holds")
                    }
                    let model = metadata["model"] ?? Architecture(rawValue: metadata["architecture"] ?? "")?.description(loaded.role).json
                    if loaded.description.json != model || loaded.role.rawValue != metadata["role"] {
                        problems.add("\(label): loaded as \(loaded.summary)")
                    }
                }
                let changed = values.map(\.bitPattern) != seed.tensors.flatMap({ $0.values.map(\.bitPattern) })
                    || loaded.description.json != (seed.metadata["model"] ?? loaded.description.json) || loaded.role.rawValue != seed.metadata["role"]
                // A checksummed file changed by mutation, or rewritten without renewing its checksum, must not load changed.
                if changed, seed.metadata["checksum"] != nil, kind == "byte mutation" || kind.hasSuffix("checksum not renewed") {
                    problems.add("\(label): loaded changed content past the checksum")
                }
                if changed { accepted[kind == "byte mutation" ? "byte mutation of a file without a checksum" : kind, default: 0] += 1 }
            } catch {
                stages.record(Self.stage(error, [("checksum", ["do not match their checksum"]), ("format", ["metadata format is"]), ("model", ["metadata holds no model", "the model in its metadata", "its model does not build"]),
                                                 ("role", ["unknown role", "holds a teacher", "holds a student"]),
                                                 ("non-finite", ["the weights are not usable"])]))
                problems.checkNames(error, path, label)
            }
        }
        finish(stages, problems, accepted, title: "Checkpoint.load", start: start,
               deep: ["model", "role", "tensors", "non-finite", "loaded", "loaded: byte mutation"])
    }

    // MARK: Mutations at the metadata and tensor level

    /// Odd values for a metadata field: empty, signs, overflow, other radixes, separators, controls.
    static let oddValues = ["", "abc", "-1", "0", "1", "99999999999999999999", "1e3", " 2", "2 ", "0x10", "+3",
                            "ffffffffffffffffff", "nan", ";", ",", ";;", "1,,2", "3ff0000000000000,", "zz", "é", "\u{0}",
                            "teacher", "student", "hidden", "keras", "Keras", "swift-distill/1", "swift-distill-state/1",
                            "swift-distill-state/2"]

    /// Changes, removes or adds one metadata field; returns what it did.
    static func changeMetadata(_ metadata: inout [String: String], fields: [String], _ rng: inout FuzzRandom) -> String {
        let field = rng.pick(fields)
        switch rng.below(6) {
        case 0:
            metadata[field] = nil
            return "remove \(field)"
        case 1:
            metadata[rng.pick(["extra", "Format", "checksum ", ""])] = rng.pick(oddValues)
            return "add a field"
        case 2:
            // A near miss of the real value: one character more, less or changed.
            var value = Array(metadata[field] ?? "")
            let character: Character = rng.pick(["0", "1", "f", "-", ";", ",", " "])
            if value.isEmpty || rng.chance(0.3) {
                value.append(character)
            } else if rng.chance(0.5) {
                value.remove(at: rng.below(value.count))
            } else {
                value[rng.below(value.count)] = character
            }
            metadata[field] = String(value)
            return "set \(field) near"
        default:
            metadata[field] = rng.pick(oddValues)
            return "set \(field)"
        }
    }

    /// Changes the tensors: a non-finite or nudged value, a reshape, a wrong count, one missing,
    /// renamed, added or out of order; returns what it did.
    static func changeTensors(_ tensors: inout [NamedTensor], _ rng: inout FuzzRandom) -> String {
        let t = rng.below(tensors.count)
        let count = tensors[t].values.count
        switch rng.below(9) {
        case 0, 1:
            guard count > 0 else { return "unchanged" }
            tensors[t].values[rng.below(count)] = rng.pick([.nan, .infinity, -.infinity, Float(bitPattern: 0x7FA0_0001)])
            return "non-finite value"
        case 2:
            guard count > 0 else { return "unchanged" }
            let i = rng.below(count)
            tensors[t].values[i] = tensors[t].values[i].nextUp
            return "nudged value"
        case 3:
            tensors[t].shape = rng.chance(0.5) ? [count] : [1] + tensors[t].shape
            return "reshape (same values)"
        case 4:
            let keep = rng.below(max(count, 1))
            tensors[t].values = Array(tensors[t].values.prefix(keep))
            tensors[t].shape = [keep]
            return "wrong count"
        case 5:
            tensors.remove(at: t)
            return "missing tensor"
        case 6:
            tensors[t].name = rng.pick([tensors[t].name + "_1", tensors[t].name.uppercased(), "", "x." + tensors[t].name])
            if tensors.filter({ $0.name == tensors[t].name }).count > 1 { tensors[t].name += "~" }
            return "renamed tensor"
        case 7:
            tensors.append(NamedTensor(name: rng.pick(["extra", "adam.x", "dense_9.bias"]), shape: [2], values: [1, 2]))
            return "extra tensor"
        default:
            guard tensors.count > 1 else { return "unchanged" }
            tensors.swapAt(t, (t + 1) % tensors.count)
            return "reordered tensors"
        }
    }

    // MARK: Helpers

    /// A student (`keras`) model with Glorot weights.
    static func model(seed: UInt64) throws -> Sequential {
        let model = try Architecture.keras.model(.student, gemm: Fixture.gemm)
        var generator = SeededGenerator(seed: seed)
        model.parameters.initialize(using: &generator)
        return model
    }

    /// The stage of a thrown error: the first of `rules` whose words its description holds, else
    /// "tensors" for a `ModelError` (the tensors do not fit the model), "safetensors" for the
    /// container's own `CheckpointError`s, and "wrong error type" for anything else.
    static func stage(_ error: Error, _ rules: [(stage: String, words: [String])]) -> String {
        switch error {
        case let error as CheckpointError: return FuzzStages.stage(of: error.message, rules, otherwise: "safetensors")
        case is ModelError: return "tensors"
        default: return "wrong error type"
        }
    }

    /// The header length a safetensors file declares, capped at its size.
    func headerLength(_ bytes: [UInt8]) -> Int {
        let declared = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << UInt64(8 * $1) }
        return Int(min(declared, UInt64(bytes.count - 8)))
    }

    func readBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Prints the tally and the accepted odd inputs, then checks the problems and the depth reached.
    func finish(_ stages: FuzzStages, _ problems: FuzzProblems, _ accepted: [String: Int], title: String, start: Date, deep: [String]) {
        print(stages.report("\(title) fuzz") + String(format: "\n  time: %.2f s", Date().timeIntervalSince(start)))
        for (kind, count) in accepted.sorted(by: { $0.key < $1.key }) { print("  loaded with changed content: \(kind) x\(count)") }
        for problem in problems.list.prefix(10) { XCTFail(problem) }
        XCTAssertEqual(problems.list.count, 0, "\(problems.list.count) problems")
        XCTAssertGreaterThanOrEqual(stages.total, 500)
        XCTAssertEqual(stages.counts["wrong error type", default: 0], 0)
        XCTAssertGreaterThanOrEqual(stages.fraction(deep), 0.3, "too few inputs reached the deep checks")
    }
}

/// What went wrong in a fuzz run, collected so a systematic failure is reported a few times, not 600.
struct FuzzProblems {
    private(set) var list: [String] = []

    mutating func add(_ problem: String) { list.append(problem) }

    /// An error must be one of the project's and name the file, on one line.
    mutating func checkNames(_ error: Error, _ path: String, _ label: String) {
        let text = "\(error)"
        if !(error is CheckpointError || error is ModelError) { add("\(label): \(type(of: error)) thrown: \(text)") }
        if !text.contains(path) || text.contains("\n") { add("\(label): message does not name the file on one line: \(text)") }
    }
}
