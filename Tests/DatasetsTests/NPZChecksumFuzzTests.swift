import Datasets
import Foundation
import TestSupport
import XCTest
import ZIPFoundation

/// Seeded fuzzing of the CRC-32 and size checks on `.npz` members. Seeds are small four-array
/// archives (stored and deflated members); inputs flip bytes inside a member's data, change the
/// CRC-32 or sizes the archive records, truncate it, or mutate bytes anywhere. Both splits are
/// loaded: a load that succeeds returns exactly the original arrays; an error is a one-line
/// `DatasetError` naming the archive.
final class NPZChecksumFuzzTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("NPZChecksumFuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    static let rules: [(stage: String, words: [String])] = [
        ("CRC-32", ["CRC-32"]), ("inflates to", ["inflates to"]), ("cannot be read", ["cannot be read"]),
        ("declares too much", ["declares"]), ("not a zip", ["is not a zip archive"]), ("no array", ["has no array"]),
    ]
    /// Ends of a member read: the checks this fuzz is about.
    static let deep = ["CRC-32", "inflates to", "cannot be read", "declares too much"]

    func testFuzzMemberChecksums() throws {
        let start = Date()
        var rng = FuzzRandom(seed: 0x0C2C_0001)
        var mutator = Mutator(seed: 0x0C2C_0002)
        // Stored, deflated and mixed archives, each with its arrays as loaded.
        var seeds: [(bytes: [UInt8], members: [Member], loaded: [Split: LabeledImages])] = []
        for n in 0..<4 {
            let methods: [CompressionMethod] = (0..<4).map { i in n == 0 ? .none : n == 1 ? .deflate : (i + n) % 2 == 0 ? .none : .deflate }
            let (path, arrays) = try makeArchive(n, methods: methods, &rng)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var loaded: [Split: LabeledImages] = [:]
            for split in Split.allCases {
                let data = try NPZLoader.load(path: path, split: split)
                XCTAssertEqual(data.labels, arrays[split]!.labels.map(Int32.init))
                XCTAssertEqual(data.images, arrays[split]!.images.map { Float($0) / 255 })
                loaded[split] = data
            }
            let members = try XCTUnwrap(Self.members(bytes))
            XCTAssertEqual(members.map(\.method), methods.map(\.rawValue), "archive \(n)")
            seeds.append((bytes, members, loaded))
        }

        var stages = FuzzStages()
        var problems: [String] = []
        for index in 0..<600 {
            let seed = rng.pick(seeds)
            var bytes = seed.bytes
            let m = rng.below(seed.members.count)
            let member = seed.members[m]
            var kind: String
            var mustFail = false  // for the split that holds the member
            switch rng.below(20) {
            case 0..<8:
                // One to three bytes of the member's data changed.
                for _ in 0..<rng.inRange(1...3) {
                    bytes[member.data.lowerBound + rng.below(member.data.count)] ^= UInt8(rng.inRange(1...255))
                }
                kind = member.method == 0 ? "stored data changed" : "deflated data changed"
                mustFail = member.method == 0 && bytes != seed.bytes
            case 8..<11:
                bytes[member.central + 16 + rng.below(4)] ^= UInt8(rng.inRange(1...255))
                kind = "recorded CRC-32 changed"
                mustFail = true
            case 11..<13:
                // A size the central directory records. (On Linux, ZIPFoundation inflates to the end of the
                // deflate stream whatever the compressed size says, so that change alone loads intact.)
                let at = member.central + rng.pick([20, 24])
                let size = Self.word(bytes, at)
                Self.setWord(&bytes, at, rng.pick([0, 1, size - 1, size + 1, size + 7, size / 2, size * 2, 0x7FFF_FFFF, 0xFFFF_FFFE, 0xFFFF_FFFF]))
                kind = at == member.central + 20 ? "recorded compressed size changed" : "recorded size changed"
                mustFail = at == member.central + 24 && Self.word(bytes, at) != size
            case 13:
                // The local header's copies, which the reader does not use.
                bytes[member.local + rng.pick([14, 18, 22]) + rng.below(4)] ^= UInt8(rng.inRange(1...255))
                kind = "local header CRC or size changed"
            case 14..<16:
                let end = rng.chance(0.5) ? member.data.lowerBound + rng.below(member.data.count + 1) : rng.below(bytes.count)
                bytes.removeSubrange(end...)
                kind = "truncated"
            default:
                bytes = mutator.mutate(bytes, donors: seeds.map(\.bytes), focus: seed.members.map(\.data), maxSteps: 2)
                kind = "byte mutation"
            }

            let path = "\(directory)/fuzz-\(index).npz"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            for split in Split.allCases {
                let label = "input \(index) (\(kind) in \(member.name), split \(split))"
                let holdsMember = member.name.hasSuffix("_\(split.rawValue).npy")
                do {
                    let data = try NPZLoader.load(path: path, split: split)
                    let original = seed.loaded[split]!
                    if data.images != original.images || data.labels != original.labels || data.sampleShape != original.sampleShape {
                        problems.append("\(label): loaded arrays other than the archive was made with")
                        stages.record("LOADED CHANGED")
                    } else {
                        stages.record("loaded identical")
                    }
                    if mustFail && holdsMember { problems.append("\(label): loaded, but the member's data or record changed") }
                } catch let error as DatasetError {
                    stages.record(FuzzStages.stage(of: error.reason, Self.rules, otherwise: "other"))
                    if !error.path.hasPrefix(path) || error.description.contains("\n") {
                        problems.append("\(label): not one line naming the archive: \(error)")
                    }
                } catch {
                    stages.record("wrong error type")
                    problems.append("\(label): \(type(of: error)) thrown: \(error)")
                }
            }
        }

        print(stages.report("npz member checksum fuzz (both splits)") + String(format: "\n  time: %.2f s", Date().timeIntervalSince(start)))
        for problem in problems.prefix(10) { XCTFail(problem) }
        XCTAssertEqual(problems.count, 0, "\(problems.count) problems")
        XCTAssertGreaterThanOrEqual(stages.total, 1000)
        XCTAssertEqual(stages.counts["wrong error type", default: 0], 0)
        XCTAssertGreaterThanOrEqual(stages.fraction(Self.deep), 0.25, "too few loads reached the member checks")
        XCTAssertGreaterThan(stages.counts["CRC-32", default: 0], 50)
    }

    /// A member's place in an archive: its central directory record, local header and data.
    struct Member {
        var name: String
        var method: UInt16
        var central: Int   // offset of its central directory record
        var local: Int     // offset of its local header
        var data: Range<Int>
    }

    /// The members of a zip archive without ZIP64 or a comment, from its central directory.
    static func members(_ bytes: [UInt8]) -> [Member]? {
        let eocd = bytes.count - 22
        guard eocd >= 0, word(bytes, eocd) == 0x0605_4B50 else { return nil }
        var at = word(bytes, eocd + 16)
        var result: [Member] = []
        for _ in 0..<half(bytes, eocd + 10) {
            guard word(bytes, at) == 0x0201_4B50 else { return nil }
            let (nameLength, extra, comment) = (half(bytes, at + 28), half(bytes, at + 30), half(bytes, at + 32))
            let local = word(bytes, at + 42)
            guard word(bytes, local) == 0x0403_4B50 else { return nil }
            let dataStart = local + 30 + half(bytes, local + 26) + half(bytes, local + 28)
            result.append(Member(name: String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self),
                                 method: UInt16(half(bytes, at + 10)), central: at, local: local,
                                 data: dataStart..<(dataStart + word(bytes, at + 20))))
            at += 46 + nameLength + extra + comment
        }
        return result
    }

    static func half(_ bytes: [UInt8], _ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    static func word(_ bytes: [UInt8], _ at: Int) -> Int { half(bytes, at) | half(bytes, at + 2) << 16 }
    static func setWord(_ bytes: inout [UInt8], _ at: Int, _ value: Int) {
        for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    /// Archive `n`: x_train, y_train, x_test, y_test (in that order, with `methods`), images of
    /// `count x 6 x 5` bytes, part pattern and part random, so deflate has something to do.
    func makeArchive(_ n: Int, methods: [CompressionMethod], _ rng: inout FuzzRandom)
        throws -> (path: String, arrays: [Split: (images: [UInt8], labels: [UInt8])])
    {
        var arrays: [Split: (images: [UInt8], labels: [UInt8])] = [:]
        var members: [(String, [UInt8])] = []
        for (split, count) in [(Split.train, 12 + n), (.test, 5 + n)] {
            let images = (0..<(count * 30)).map { i in i % 7 < 4 ? UInt8(i % 5 * 40) : UInt8(truncatingIfNeeded: rng.next()) }
            let labels = (0..<count).map { _ in UInt8(rng.below(10)) }
            arrays[split] = (images, labels)
            members.append(("x_\(split.rawValue).npy", Self.npy("|u1", "(\(count), 6, 5)", images)))
            members.append(("y_\(split.rawValue).npy", Self.npy("|u1", "(\(count),)", labels)))
        }
        let path = "\(directory)/seed-\(n).npz"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for ((name, bytes), method) in zip(members, methods) {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: method) { position, size in
                Data(bytes[Int(position)..<Int(position) + size])
            }
        }
        return (path, arrays)
    }

    /// A version-1 `.npy` array.
    static func npy(_ descr: String, _ shape: String, _ payload: [UInt8]) -> [UInt8] {
        let header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }\n".utf8)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + payload
    }
}
