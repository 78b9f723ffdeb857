import Foundation
import NN
import TestSupport
import XCTest
import Distill

/// Seeded fuzzing of `TrainingState.newest`: a resume takes a state only of its own run. Each input
/// is a directory of one or two real states (the older sometimes of another run); the fingerprint
/// or settings asked for are changed, and/or the newest file's fingerprint fields or settings are
/// rewritten (with the checksum redone, or not: then the file is damaged and skipped). `newest`
/// returns the newest intact state when settings and every fingerprint entry are equal, throws
/// `StateMismatch` naming what differs when they are not, and returns nil when no state is intact.
final class StateFingerprintFuzzTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("StateFingerprintFuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    static let fingerprint = ["training data": "300 samples of 28x28x1, #abc", "teacher": "10 classes, #def"]
    static let settings = "epochs 3, batch 32, lr 0.001, seed 7"
    static let otherKeys = ["teacher logits", "Teacher", "training data ", "", "teacher.sha", "validation data", "é"]
    static let characters = Array("0123456789abcdef#x, é")

    /// One state file as written: what it records and whether it is still intact.
    struct Written {
        var path: String
        var step: Int
        var settings: String
        var fingerprint: [String: String]
        var intact = true
    }

    func testFuzzResumeFingerprints() throws {
        let start = Date()
        let model = try ModelDescription(json: Array(Self.tinyModel.utf8), source: "tiny.json").build(gemm: OpenBLASGEMM())
        var generator = SeededGenerator(seed: 9)
        model.parameters.initialize(using: &generator)
        let adam = Adam()
        for i in 0..<model.parameterCount { model.parameters.gradients.pointer[i] = Float(i % 5) - 2 }
        adam.update(model.parameters)

        var rng = FuzzRandom(seed: 0xF1F0_0001)
        var stages = FuzzStages()
        var problems: [String] = []
        for index in 0..<600 {
            let run = "\(directory)/run-\(index)"
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: run) }
            var kinds: [String] = []

            // The files: an older state (of this run, or of another) and the newest, of this run.
            var files: [Written] = []
            let steps = rng.chance(0.7) ? [3, 4] : [4]
            for step in steps {
                var written = Written(path: "", step: step, settings: Self.settings, fingerprint: Self.fingerprint)
                if step == 3, rng.chance(0.4) {
                    kinds.append("older of another run")
                    if rng.chance(0.8) { Self.change(&written.fingerprint, &rng) } else { written.settings = Self.near(written.settings, &rng) }
                }
                let position = FitPosition(epoch: 1, step: step, generator: 0xABCD, totals: [0.5, 96], seen: 96, epochs: [], epochSeconds: [])
                let state = TrainingState(phase: "teacher", settings: written.settings, fingerprint: written.fingerprint, ranks: 1,
                                          position: position, model: model, optimizer: adam)
                written.path = try state.save(in: run, stepsPerEpoch: 10)
                files.append(written)
            }

            // The newest file rewritten: its fingerprint fields, its settings or an unrelated field.
            if rng.chance(0.55) {
                let newest = files.count - 1
                let (tensors, original) = try SafeTensors.read(from: files[newest].path)
                var metadata = original
                var recorded = files[newest].fingerprint
                switch rng.below(6) {
                case 0..<4:
                    Self.change(&recorded, &rng)
                    for key in metadata.keys where key.hasPrefix("fingerprint.") { metadata[key] = nil }
                    for (key, value) in recorded { metadata["fingerprint." + key] = value }
                    kinds.append("file fingerprint changed")
                case 4:
                    metadata["settings"] = Self.near(metadata["settings"]!, &rng)
                    kinds.append("file settings changed")
                default:
                    // Not fingerprint entries: they change nothing.
                    metadata[rng.pick(["fingerprint", "Fingerprint.teacher", "fingerprints.teacher", "note"])] = "x"
                    kinds.append("unrelated field added")
                }
                if rng.chance(0.75) {
                    metadata["checksum"] = nil
                    try SafeTensors.writeChecksummed(tensors, metadata: metadata, to: files[newest].path)
                    files[newest].fingerprint = recorded
                    files[newest].settings = metadata["settings"]!
                } else {
                    try SafeTensors.write(tensors, metadata: metadata, to: files[newest].path)
                    files[newest].intact = metadata == original
                    kinds.append("checksum not redone")
                }
            } else if rng.chance(0.15) {
                // A weight's bytes changed (the data ends the file).
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: files.last!.path)))
                bytes[bytes.count - 1 - rng.below(8)] ^= UInt8(rng.inRange(1...255))
                try Data(bytes).write(to: URL(fileURLWithPath: files.last!.path))
                files[files.count - 1].intact = false
                kinds.append("newest damaged")
            }

            // What the resume asks for.
            var asked = Self.fingerprint, askedSettings = Self.settings
            if rng.chance(0.5) {
                if rng.chance(0.8) { Self.change(&asked, &rng) } else { askedSettings = Self.near(askedSettings, &rng) }
                kinds.append(asked == Self.fingerprint && askedSettings == Self.settings ? "asked same" : "asked other")
            }

            let label = "input \(index) (\(kinds.isEmpty ? "unchanged" : kinds.joined(separator: ", ")))"
            let intact = files.last(where: \.intact)
            let damaged = files.filter { !$0.intact && $0.step > (intact?.step ?? 0) }.count
            do {
                guard let found = try TrainingState.newest(in: run, phase: "teacher", settings: askedSettings, fingerprint: asked) else {
                    stages.record("nil: no intact state")
                    if intact != nil { problems.append("\(label): found nothing, but a state is intact") }
                    continue
                }
                stages.record(found.path == files.last!.path ? "returned: the newest" : "returned: an older (newer damaged)")
                if found.path != intact?.path { problems.append("\(label): returned \(found.path), expected \(intact?.path ?? "nil")") }
                if found.state.settings != askedSettings || found.state.fingerprint != asked {
                    problems.append("\(label): returned a state of another run: \(found.state.settings) \(found.state.fingerprint), asked \(askedSettings) \(asked)")
                }
                if found.state.position.step != intact?.step { problems.append("\(label): returned the state of step \(found.state.position.step)") }
                if found.skipped.count != damaged { problems.append("\(label): skipped \(found.skipped), expected \(damaged) files") }
            } catch let mismatch as TrainingState.StateMismatch {
                guard let intact else {
                    problems.append("\(label): a mismatch with no intact state: \(mismatch)")
                    continue
                }
                if mismatch.path != intact.path { problems.append("\(label): a mismatch for \(mismatch.path), expected \(intact.path)") }
                if "\(mismatch)".contains("\n") || !"\(mismatch)".hasPrefix(intact.path) {
                    problems.append("\(label): not one line naming the file: \(mismatch)")
                }
                let differing = Set(asked.keys).union(intact.fingerprint.keys).filter { asked[$0] != intact.fingerprint[$0] }
                if intact.settings != askedSettings {
                    stages.record("mismatch: settings")
                    if mismatch.what != "other settings" || mismatch.theirs != intact.settings || mismatch.ours != askedSettings {
                        problems.append("\(label): expected other settings, got: \(mismatch)")
                    }
                } else if let key = differing.first(where: { mismatch.what == "other \($0)" }) {
                    stages.record("mismatch: fingerprint")
                    if mismatch.theirs != intact.fingerprint[key] ?? "not recorded" || mismatch.ours != asked[key] ?? "none" {
                        problems.append("\(label): wrong values for \(key.debugDescription): \(mismatch)")
                    }
                } else {
                    stages.record("mismatch: wrong")
                    problems.append("\(label): \(differing.isEmpty ? "same run refused" : "names none of \(differing.sorted())"): \(mismatch)")
                }
            } catch {
                stages.record("wrong error type")
                problems.append("\(label): \(type(of: error)) thrown: \(error)")
            }
        }

        print(stages.report("TrainingState.newest fingerprint fuzz") + String(format: "\n  time: %.2f s", Date().timeIntervalSince(start)))
        for problem in problems.prefix(10) { XCTFail(problem) }
        XCTAssertEqual(problems.count, 0, "\(problems.count) problems")
        XCTAssertGreaterThanOrEqual(stages.total, 500)
        XCTAssertGreaterThanOrEqual(stages.fraction(["mismatch: settings", "mismatch: fingerprint"]), 0.3, "too few mismatches")
        for outcome in ["returned: the newest", "returned: an older (newer damaged)", "nil: no intact state", "mismatch: settings"] {
            XCTAssertGreaterThan(stages.counts[outcome, default: 0], 5, "\(outcome) barely reached")
        }
    }

    /// One change: a value's character changed, added or removed, a key dropped or added, a value
    /// emptied, or two values swapped. Always a different fingerprint.
    static func change(_ fingerprint: inout [String: String], _ rng: inout FuzzRandom) {
        let before = fingerprint
        repeat {
            let key = rng.pick(fingerprint.keys.sorted() + ["teacher"])
            switch rng.below(6) {
            case 0, 1: fingerprint[key] = near(fingerprint[key] ?? "", &rng)
            case 2: fingerprint[key] = nil
            case 3: fingerprint[rng.pick(otherKeys)] = rng.pick(["", "10 classes, #def", "x"])
            case 4: fingerprint[key] = ""
            default:
                let keys = fingerprint.keys.sorted()
                if keys.count > 1 { (fingerprint[keys[0]], fingerprint[keys[1]]) = (fingerprint[keys[1]], fingerprint[keys[0]]) }
            }
        } while fingerprint == before
    }

    /// `text` with one character changed, inserted or removed.
    static func near(_ text: String, _ rng: inout FuzzRandom) -> String {
        var characters = Array(text)
        if characters.isEmpty || rng.chance(0.3) {
            characters.insert(rng.pick(Self.characters), at: rng.below(characters.count + 1))
        } else if rng.chance(0.5) {
            characters.remove(at: rng.below(characters.count))
        } else {
            let i = rng.below(characters.count)
            let replacement = rng.pick(Self.characters.filter { $0 != characters[i] })
            characters[i] = replacement
        }
        return String(characters)
    }

    static let tinyModel = #"""
        {"class_name": "Sequential", "config": {"name": "tiny", "layers": [
          {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "name": "input_layer"}},
          {"class_name": "Dense", "config": {"name": "dense", "units": 3}}]}}
        """#
}
