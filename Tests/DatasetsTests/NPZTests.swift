import Datasets
import Foundation
import TestSupport
import XCTest
import ZIPFoundation

/// `.npz` archives in Keras's mnist.npz layout: the committed fixture equals the IDX files it was
/// made from; malformed archives and arrays end in one line naming the archive and member; a
/// seeded fuzz of the `.npy` arrays inside (600 inputs, most with one header field made wrong)
/// never traps.
final class NPZTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("npz-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// `.npy` version-1 bytes: `header` as written, then `payload`.
    static func npy(header: String, payload: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let text = Array(header.utf8)
        let length: [UInt8] = version == 1 ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)]
            : [UInt8(text.count & 0xFF), UInt8(text.count >> 8 & 0xFF), 0, 0]
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + text + payload
    }

    static func header(_ descr: String, _ shape: String, fortran: String = "False") -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }\n"
    }

    /// An archive of `members` (name -> bytes), deflated.
    func archive(_ members: [String: [UInt8]], name: String = "data.npz") throws -> String {
        let path = "\(directory)/\(name)"
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (member, bytes) in members.sorted(by: { $0.key < $1.key }) {
            try archive.addEntry(with: member, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                Data(bytes[Int(position)..<Int(position) + size])
            }
        }
        return path
    }

    /// A valid four-array archive: 3 train and 2 test images of 2 x 2 x `channels`.
    func valid(channels: Int = 1, labels: (descr: String, bytes: [UInt8])? = nil) -> [String: [UInt8]] {
        let shape = channels == 1 ? "" : ", \(channels)"
        return [
            "x_train.npy": Self.npy(header: Self.header("|u1", "(3, 2, 2\(shape))"), payload: (0..<12 * channels).map { UInt8($0) }),
            "y_train.npy": labels.map { Self.npy(header: Self.header($0.descr, "(3,)"), payload: $0.bytes) }
                ?? Self.npy(header: Self.header("|u1", "(3,)"), payload: [2, 0, 1]),
            "x_test.npy": Self.npy(header: Self.header("|u1", "(2, 2, 2\(shape))"), payload: Array(repeating: 255, count: 8 * channels)),
            "y_test.npy": Self.npy(header: Self.header("|u1", "(2,)"), payload: [1, 1]),
        ]
    }

    private func assertFails(_ members: [String: [UInt8]], _ split: Split = .train, saying words: String..., line: UInt = #line) throws {
        let path = try archive(members)
        XCTAssertThrowsError(try NPZLoader.load(path: path, split: split), line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(path), message, line: line)
            XCTAssertFalse(message.contains("\n"), message, line: line)
            for word in words { XCTAssertTrue(message.contains(word), "'\(message)' should say '\(word)'", line: line) }
        }
    }

    func testTheFixtureHoldsWhatItsIDXFilesHold() throws {
        let npz = try NPZLoader.load(path: "\(fixtureDirectory)/../mnist-small.npz", split: .train)
        let idx = try IDXLoader.load(directory: fixtureDirectory, split: .train)
        XCTAssertEqual(npz.count, 1000)
        XCTAssertEqual(npz.sampleShape, [28, 28, 1])
        XCTAssertEqual(npz.images, Array(idx.images[..<(1000 * 784)]))
        XCTAssertEqual(npz.labels, Array(idx.labels[..<1000]))
        XCTAssertEqual(try NPZLoader.load(path: "\(fixtureDirectory)/../mnist-small.npz", split: .test).count, 200)
    }

    func testChannelsAndLabelTypes() throws {
        var data = try NPZLoader.load(path: try archive(valid(channels: 3)), split: .train)
        XCTAssertEqual(data.sampleShape, [2, 2, 3])
        XCTAssertEqual(data.images[5], 5 / 255)
        // int64 labels, as NumPy writes by default, and [N, 1] as Keras's CIFAR-10 has them.
        data = try NPZLoader.load(path: try archive(valid(labels: ("<i8", [2, 0, 0, 0, 0, 0, 0, 0] + Array(repeating: 0, count: 8) + [7] + Array(repeating: 0, count: 7)))), split: .train)
        XCTAssertEqual(data.labels, [2, 0, 7])
        var members = valid()
        members["y_train.npy"] = Self.npy(header: Self.header("<i4", "(3, 1)"), payload: [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])
        XCTAssertEqual(try NPZLoader.load(path: try archive(members), split: .train).labels, [1, 2, 3])
    }

    func testMalformedArchivesAndArrays() throws {
        let notZip = "\(directory)/plain.npz"
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: notZip))
        XCTAssertThrowsError(try NPZLoader.load(path: notZip, split: .train)) { XCTAssertTrue("\($0)".contains("is not a zip archive"), "\($0)") }
        XCTAssertThrowsError(try NPZLoader.load(path: directory, split: .train)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
        var members = valid()
        members["y_train.npy"] = nil
        try assertFails(members, saying: "has no array y_train", "x_test.npy")
        members = valid()
        members["y_train.npy"] = Self.npy(header: Self.header("|u1", "(2,)"), payload: [1, 2])
        try assertFails(members, saying: "y_train", "shape [2], expected [3]")
        members = valid(labels: ("<i2", [1, 0, 0xFF, 0xFF, 2, 0]))
        try assertFails(members, saying: "label -1 at index 1")
        members = valid()
        members["x_train.npy"] = Self.npy(header: Self.header("<f4", "(3, 2, 2)"), payload: Array(repeating: 0, count: 48))
        try assertFails(members, saying: "x_train", "is <f4 of shape [3, 2, 2]; expected unsigned bytes")
        members["x_train.npy"] = Self.npy(header: Self.header("<f2", "(3, 2, 2)"), payload: Array(repeating: 0, count: 24))
        try assertFails(members, saying: "x_train", "dtype '<f2' is not supported")
        members["x_train.npy"] = Self.npy(header: Self.header("<i4", "(3, 2, 2)"), payload: Array(repeating: 0, count: 48))
        try assertFails(members, saying: "x_train", "expected unsigned bytes")
        members["x_train.npy"] = Self.npy(header: Self.header("|u1", "(3, 2, 2)", fortran: "True"), payload: Array(repeating: 0, count: 12))
        try assertFails(members, saying: "Fortran")
        members["x_train.npy"] = Self.npy(header: Self.header("|u1", "(3, 2, 2)"), payload: Array(repeating: 0, count: 11))
        try assertFails(members, saying: "holds 11 data bytes", "needs 12")
        members["x_train.npy"] = Self.npy(header: Self.header("|u1", "(3, 0, 2)"), payload: [])
        try assertFails(members, saying: "0 x 2 x 1", "at least 1")
        members["x_train.npy"] = Self.npy(header: Self.header(">u2", "(3, 2, 2)"), payload: Array(repeating: 0, count: 24))
        try assertFails(members, saying: "'>u2'")
        members["x_train.npy"] = Array("PK not npy".utf8)
        try assertFails(members, saying: "no \\x93NUMPY magic")
    }

    /// The stage a `.npy` parse failure belongs to, first match wins.
    static let rules: [(stage: String, words: [String])] = [
        ("magic", ["magic"]), ("version", ["version"]), ("length", ["truncated .npy header", "runs past the end"]),
        ("text", ["is not text"]), ("dict", [".npy header is not a dict", "key that is not", "lacks"]),
        ("value", ["that is not a string"]), ("fields", ["has no 'descr'", "has no 'fortran_order'", "has no 'shape'"]),
        ("dtype", ["dtype"]), ("order", ["Fortran"]), ("size", ["too large", "data bytes"]),
    ]

    func testFuzzNPYArrays() throws {
        var rng = FuzzRandom(seed: 0x0A9F_0001)
        var mutator = Mutator(seed: 0x0A9F_0002)
        let descrs = ["|u1", "<u1", "<i8", "<i4", "<u2", ">i4", "|i8", "<f4", "u1", "", "<i16", "|b1"]
        let shapes = ["(3, 2, 2)", "(12,)", "()", "(0,)", "(3, 4)", "(-1, 3)", "(3 2)", "(3,,)", "[3, 4]", "(99999999999999999, 99)",
                      "(4294967296, 4294967296)", "(1, 1, 1, 1, 1, 12)"]
        var inputs: [[UInt8]] = []
        for _ in 0..<450 {
            var header = Self.header(rng.pick(descrs), rng.pick(shapes), fortran: rng.pick(["False", "True", "0", "'no'"]))
            switch rng.below(6) {
            case 0: header = String(header.dropLast(rng.inRange(1...10)))
            case 1: header = header.replacingOccurrences(of: rng.pick(["'descr'", "'shape'", "'fortran_order'", ":", ",", "{", "}"]), with: "")
            case 2: header = header.replacingOccurrences(of: "'", with: "\"")
            default: break
            }
            let payload = rng.bytes(rng.pick([0, 11, 12, 24, 48, 96]))
            inputs.append(Self.npy(header: header, payload: payload, version: rng.pick([1, 1, 1, 2, 3, 4, 0])))
        }
        let seeds = [Self.npy(header: Self.header("|u1", "(3, 2, 2)"), payload: Array(repeating: 7, count: 12)),
                     Self.npy(header: Self.header("<i8", "(3,)"), payload: Array(repeating: 1, count: 24))]
        for _ in 0..<150 { inputs.append(mutator.mutate(rng.pick(seeds), donors: seeds, focus: [0..<60])) }

        var tally: [String: Int] = [:]
        for bytes in inputs {
            // Through a real archive, as users' files arrive.
            var members = valid()
            members["y_test.npy"] = bytes
            let path = try archive(members, name: "fuzz.npz")
            do {
                let data = try NPZLoader.load(path: path, split: .test)
                XCTAssertEqual(data.count, 2)
                tally["loaded", default: 0] += 1
            } catch let error as DatasetError {
                XCTAssertFalse(error.description.contains("\n"), error.description)
                XCTAssertTrue(error.path.hasPrefix(path), error.description)
                let stage = Self.rules.first { rule in rule.words.contains { error.reason.contains($0) } }?.stage ?? "checks after parsing"
                tally[stage, default: 0] += 1
            }
        }
        print("npy fuzz: \(inputs.count) inputs; " + tally.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        XCTAssertEqual(tally.values.reduce(0, +), 600)
        for stage in ["dict", "dtype", "size", "checks after parsing"] {
            XCTAssertGreaterThan(tally[stage, default: 0], 5, "stage \(stage) barely reached: \(tally)")
        }
    }
}
