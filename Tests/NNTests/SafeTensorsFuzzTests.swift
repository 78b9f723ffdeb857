import Foundation
import NN
import TestSupport
import XCTest

/// Seeded fuzzing of `SafeTensors.read`: every input reads back or throws a `CheckpointError`
/// naming the file. Most inputs are hand-built headers with one field made wrong, so they get
/// past the length and JSON checks into the per-tensor and coverage checks.
final class SafeTensorsFuzzTests: XCTestCase {
    /// The stage a `CheckpointError` message belongs to, first match wins; a read is "read ok".
    static let rules: [(stage: String, words: [String])] = [
        ("file", ["no such file", "not a regular file", "cannot read file"]),
        ("length", ["for the header length", "header length is"]),
        ("json", ["not valid UTF-8 JSON", "expected a JSON object"]),
        ("duplicate", ["twice; expected each tensor and metadata key once"]),
        ("metadata", ["\"__metadata__\" is", "metadata '"]),
        ("entry", ["expected an object"]),
        ("fields", ["has no \""]),
        ("dtype", ["has dtype"]),
        ("shape", ["has shape"]),
        ("offsets", ["has data_offsets"]),
        ("size", ["expected 4 * product"]),
        ("coverage", ["overlaps", "belong to no tensor", "tensors cover"]),
    ]
    /// Stages reached only once the header parsed as a JSON object with valid metadata.
    static let tensorLevel = ["entry", "fields", "dtype", "shape", "offsets", "size", "coverage", "read ok"]

    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("SafeTensorsFuzz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testFuzzRead() throws {
        let start = Date()
        var rng = FuzzRandom(seed: 0x5AFE_0001)
        var mutator = Mutator(seed: 0x5AFE_0002)
        var cases: [SafeTensorsCase] = []
        for _ in 0..<440 { cases.append(HeaderSpec.randomCase(&rng)) }

        // Byte mutations of files the writer made, half of them aimed at the length and header.
        var seeds: [[UInt8]] = []
        for i in 0..<4 {
            let spec = HeaderSpec.valid(&rng)
            let path = "\(directory)/seed-\(i).safetensors"
            try SafeTensors.write(spec.tensors.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values) },
                                  metadata: spec.metadataValues, to: path)
            seeds.append([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        for _ in 0..<200 {
            let seed = mutator.rng.pick(seeds)
            let headerEnd = 8 + (0..<8).reduce(0) { $0 | Int(seed[$1]) << (8 * $1) }
            let bytes = mutator.mutate(seed, donors: seeds, focus: [0..<8, 8..<headerEnd])
            cases.append(SafeTensorsCase(bytes: bytes, kind: "byte mutation"))
        }

        var stages = FuzzStages()
        var problems: [String] = []
        var lenient: [String: Int] = [:]  // kinds of unusual input that were accepted
        for (index, c) in cases.enumerated() {
            let path = "\(directory)/case-\(index).safetensors"
            try Data(c.bytes).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let label = "case \(index) (\(c.kind))"
            do {
                let (tensors, metadata) = try SafeTensors.read(from: path)
                stages.record("read ok")
                if c.mustFail { problems.append("\(label): read, but the file is invalid") }
                if c.expected == nil && !c.mustFail && c.kind != "byte mutation" { lenient[c.kind, default: 0] += 1 }
                for tensor in tensors where HeaderSpec.product(tensor.shape) != tensor.values.count {
                    problems.append("\(label): tensor '\(tensor.name)' has shape \(tensor.shape) and \(tensor.values.count) values")
                }
                if let expected = c.expected {
                    let got = Dictionary(tensors.map { ($0.name, ($0.shape, $0.values.map(\.bitPattern))) }) { first, _ in first }
                    let want = Dictionary(expected.tensors.map { ($0.name, ($0.shape, $0.values.map(\.bitPattern))) }) { first, _ in first }
                    if got.count != tensors.count || got.keys.sorted() != want.keys.sorted()
                        || want.contains(where: { name, value in got[name]!.0 != value.0 || got[name]!.1 != value.1 }) {
                        problems.append("\(label): read tensors other than the file holds")
                    }
                    if metadata != expected.metadata { problems.append("\(label): read metadata \(metadata), expected \(expected.metadata)") }
                }
            } catch let error as CheckpointError {
                stages.record(FuzzStages.stage(of: error.message, Self.rules))
                if c.expected != nil { problems.append("\(label): a valid file failed: \(error)") }
                if error.path != path || error.description.contains("\n") {
                    problems.append("\(label): message does not name the file on one line: \(error)")
                }
            } catch {
                stages.record("wrong error type")
                problems.append("\(label): \(type(of: error)) thrown, expected CheckpointError: \(error)")
            }
        }

        print(stages.report("SafeTensors.read fuzz") + String(format: "\n  time: %.2f s", Date().timeIntervalSince(start)))
        for (kind, count) in lenient.sorted(by: { $0.key < $1.key }) { print("  accepted: \(kind) x\(count)") }
        for problem in problems.prefix(10) { XCTFail(problem) }
        XCTAssertEqual(problems.count, 0, "\(problems.count) problems")
        XCTAssertGreaterThanOrEqual(stages.total, 500)
        XCTAssertGreaterThanOrEqual(stages.fraction(Self.tensorLevel), 0.3, "too few inputs reached the tensor checks")
        XCTAssertEqual(stages.counts["other", default: 0], 0, "unclassified errors")
    }
}

/// One input. `expected`: what a valid file must read back as; `mustFail`: the file is invalid.
/// Neither: the format leaves it open, and any clean outcome is fine.
struct SafeTensorsCase {
    var bytes: [UInt8]
    var kind: String
    var expected: (tensors: [TensorSpec], metadata: [String: String])? = nil
    var mustFail = false
}

/// One tensor of a hand-built header: its JSON fields as text, so any of them can be made wrong.
struct TensorSpec {
    var name: String                          // as read back
    var key: String                           // as JSON text
    var fields: [(key: String, value: String)]  // dtype, shape, data_offsets, as JSON text
    var shape: [Int]
    var values: [Float]
}

/// A safetensors file described as JSON text plus data, built by hand.
struct HeaderSpec {
    var tensors: [TensorSpec] = []
    var metadata: String?                   // JSON text of "__metadata__", nil for none
    var metadataValues: [String: String] = [:]
    var extra: [String] = []                // more `"key":value` members of the top object
    var data: [UInt8] = []
    var separator = ","
    var declared: UInt64?                   // overrides the header length

    /// Names as read back and as JSON text; some need escapes.
    static let names: [(name: String, key: String)] = [
        ("w", #""w""#), ("conv2d.kernel", #""conv2d.kernel""#), ("", #""""#), ("café", #""caf\u00e9""#),
        ("tab\there", #""tab\there""#), ("a\"q", #""a\"q""#), ("dense_1/bias", #""dense_1\/bias""#), ("🙂", #""🙂""#),
    ]

    /// One to four tensors (rank 0 to 3, dims 0 to 4) stored contiguously, and zero to three metadata strings.
    static func valid(_ rng: inout FuzzRandom) -> HeaderSpec {
        var spec = HeaderSpec()
        var pool = names
        for _ in 0..<rng.inRange(1...4) {
            let (name, key) = pool.remove(at: rng.below(pool.count))
            let shape = (0..<rng.below(4)).map { _ in rng.below(5) }
            let count = shape.reduce(1, *)
            let bytes = rng.bytes(4 * count)
            let values = (0..<count).map { i in Float(bitPattern: littleEndianWord(bytes, at: 4 * i)) }
            let begin = spec.data.count
            spec.tensors.append(TensorSpec(name: name, key: key, fields: [
                ("dtype", #""F32""#), ("shape", "[\(shape.map(String.init).joined(separator: ","))]"),
                ("data_offsets", "[\(begin),\(begin + 4 * count)]"),
            ], shape: shape, values: values))
            spec.data += bytes
        }
        let keys = ["format", "note", "", "ünï"]
        for key in keys.prefix(rng.below(4)) { spec.metadataValues[key] = rng.pick(["pt", "", "a \"b\"", "x\ny", "1"]) }
        if !spec.metadataValues.isEmpty || rng.chance(0.3) {
            let pairs = spec.metadataValues.keys.sorted().map { "\(json($0)):\(json(spec.metadataValues[$0]!))" }
            spec.metadata = "{\(pairs.joined(separator: ","))}"
        }
        return spec
    }

    /// The header's JSON text.
    var header: String {
        var members: [String] = []
        if let metadata { members.append("\"__metadata__\":\(metadata)") }
        for tensor in tensors {
            members.append("\(tensor.key):{\(tensor.fields.map { "\"\($0.key)\":\($0.value)" }.joined(separator: separator))}")
        }
        return "{" + (members + extra).joined(separator: separator) + "}"
    }

    /// `[u64 little-endian header length][header][data]`.
    func file(headerBytes: [UInt8]? = nil) -> [UInt8] {
        let text = headerBytes ?? Array(header.utf8)
        let length = declared ?? UInt64(text.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + text + data
    }

    var expected: (tensors: [TensorSpec], metadata: [String: String]) { (tensors, metadataValues) }

    /// A valid file (about 1 in 8, sometimes spelled unusually) or one with a field made wrong.
    static func randomCase(_ rng: inout FuzzRandom) -> SafeTensorsCase {
        var spec = valid(&rng)
        let t = rng.below(spec.tensors.count)  // the tensor a fault goes into
        func set(_ field: String, _ value: String) {
            if let i = spec.tensors[t].fields.firstIndex(where: { $0.key == field }) { spec.tensors[t].fields[i].value = value }
        }
        func invalid(_ kind: String) -> SafeTensorsCase { SafeTensorsCase(bytes: spec.file(), kind: kind, mustFail: true) }
        func unsure(_ kind: String) -> SafeTensorsCase { SafeTensorsCase(bytes: spec.file(), kind: kind) }
        func good(_ kind: String) -> SafeTensorsCase { SafeTensorsCase(bytes: spec.file(), kind: kind, expected: spec.expected) }

        switch rng.below(26) {
        case 0, 1:
            return good("valid")
        case 2:
            spec.separator = rng.pick([" , ", ",\n\t", "\r\n,  "])
            spec.tensors[t].fields.reverse()
            return good("valid, other spacing and field order")
        case 3:
            set("dtype", rng.pick([#""F16""#, #""F64""#, #""I32""#, #""f32""#, #""""#, #""BF16""#, "32", "null", "true",
                                   #"["F32"]"#, "{}", #""F32 ""#, #""F32\u0000""#]))
            return invalid("bad dtype")
        case 4:
            set("dtype", #""F3\u0032""#)  // "F32" with an escape
            return good("valid, escaped dtype")
        case 5:
            spec.tensors[t].fields.remove(at: rng.below(3))
            return invalid("missing field")
        case 6, 7:
            set("shape", rng.pick(["[-1]", "[2,-3]", "[1.5]", "[true]", #"["2"]"#, #""2""#, "{}", "null", "[1e300]",
                                   "[18446744073709551616]", "[9223372036854775808]", "[-9223372036854775809]",
                                   "[9223372036854775807,2]", "[4294967296,4294967296]", "[[2]]", "[null]", "[0.0001]"]))
            return invalid("bad shape")
        case 8:
            // Integers written as floats: JSON allows it, the reference reader does not.
            let shape = spec.tensors[t].shape
            set("shape", "[\(shape.map { rng.chance(0.5) ? "\($0).0" : "\($0)e0" }.joined(separator: ","))]")
            return unsure("float-spelled shape")
        case 9:
            let end = spec.data.count
            set("data_offsets", rng.pick(["[0]", "[0,4,8]", "[-4,0]", "[8,4]", "[0,\(end + 4)]", "[0,1e300]", "[\(end),\(end + 4)]",
                                          "[0,18446744073709551616]", #"["0","4"]"#, "null", "[0.5,4]", "{}", "[true,false]",
                                          "[9223372036854775807,9223372036854775807]", "[]"]))
            return invalid("bad offsets")
        case 10:
            // Shift one tensor's range: it overlaps a neighbour or leaves a hole.
            // (An empty tensor may move to any boundary between the others, so only non-empty ones move.)
            let (size, begin) = (4 * spec.tensors[t].shape.reduce(1, *), offsetBegin(spec.tensors[t]))
            let shift = rng.pick([-8, -4, 4, 8])
            guard size > 0, begin + shift >= 0, begin + shift + size <= spec.data.count else { return good("valid") }
            set("data_offsets", "[\(begin + shift),\(begin + shift + size)]")
            return invalid("overlap or hole")
        case 11:
            spec.data += rng.bytes(rng.inRange(1...8))
            return invalid("trailing data")
        case 12:
            guard !spec.data.isEmpty else { return good("valid") }
            spec.data.removeLast(rng.inRange(1...spec.data.count))
            return invalid("short data")
        case 13:
            // The range and the shape disagree on the size.
            let begin = offsetBegin(spec.tensors[t]), count = spec.tensors[t].shape.reduce(1, *)
            let extra = rng.pick([1, 2, 4, 8])
            spec.data.insert(contentsOf: rng.bytes(extra), at: begin + 4 * count)
            for i in spec.tensors.indices where i > t {
                let b = offsetBegin(spec.tensors[i]) + extra, e = b + 4 * spec.tensors[i].shape.reduce(1, *)
                spec.tensors[i].fields[2].value = "[\(b),\(e)]"
            }
            set("data_offsets", "[\(begin),\(begin + 4 * count + extra)]")
            return invalid("size mismatch")
        case 14:
            spec.metadata = rng.chance(0.5)
                ? rng.pick([#""str""#, "[]", "3", "null", "true", "[\"a\",\"b\"]"])
                : "{\"k\":\(rng.pick(["1", "null", "true", "{}", "[]", #"{"a":"b"}"#, "1.5", "1e300", "18446744073709551616"]))}"
            return invalid("bad metadata")
        case 15:
            spec.metadata = #"{"k":"a","k":"b"}"#
            return invalid("duplicate metadata key")
        case 16:
            spec.extra.append("\(spec.tensors[t].key):{\(spec.tensors[t].fields.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ","))}")
            return invalid("duplicate tensor key")
        case 17:
            let length = UInt64(spec.header.utf8.count)
            spec.declared = rng.pick([length + 1, length + 8, length + UInt64(spec.data.count) + 1, 1 << 32, 1 << 63, .max, .max - 7])
            return invalid("header length too long")
        case 18:
            let length = UInt64(spec.header.utf8.count)
            spec.declared = rng.chance(0.3) ? 0 : UInt64(rng.inRange(0...Int(length) - 1))
            return invalid("header length too short")
        case 19:
            spec.tensors = []
            spec.metadata = nil
            spec.data = []
            let top = rng.pick(["[]", #""x""#, "1", "null", "true", "{", "}", "{}}", "{\"a\":}", "{} x", "\u{0}{}"])
            return SafeTensorsCase(bytes: spec.file(headerBytes: Array(top.utf8)), kind: "header not an object", mustFail: top != "{}")
        case 20:
            // Bytes that are not UTF-8 inside the JSON text (in a name or a metadata string).
            var text = Array(spec.header.utf8)
            let quotes = text.indices.filter { text[$0] == UInt8(ascii: "\"") }
            let at = quotes.isEmpty ? 1 : rng.pick(quotes) + 1
            let bad: [UInt8] = rng.pick([[0xFF], [0xC0, 0x80], [0x80], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]])
            text.insert(contentsOf: bad, at: min(at, text.count))
            return SafeTensorsCase(bytes: spec.file(headerBytes: text), kind: "not UTF-8", mustFail: true)
        case 21:
            spec.metadata = "{\"k\":\(rng.pick([#""\ud800""#, #""\udc00x""#, #""\u0000""#, #""\uFFFF""#]))}"
            return unsure("odd escape in metadata")
        case 22:
            // Other encodings of the same JSON: UTF-16 or a byte-order mark.
            let text = spec.header
            let bytes: [UInt8] = rng.chance(0.5)
                ? [0xEF, 0xBB, 0xBF] + Array(text.utf8)
                : text.utf16.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
            return SafeTensorsCase(bytes: spec.file(headerBytes: bytes), kind: "BOM or UTF-16 header")
        case 23:
            let depth = rng.pick([64, 511, 512, 513, 2_000, 10_000, 100_000])
            let (opener, closer) = rng.chance(0.5) ? ("[", "]") : ("{\"a\":", "}")
            let nested = String(repeating: opener, count: depth) + String(repeating: closer, count: depth)
            if rng.chance(0.5) { spec.metadata = "{\"k\":\(nested)}" } else { spec.extra.append("\"deep\":\(nested)") }
            return SafeTensorsCase(bytes: spec.file(), kind: "deep nesting", mustFail: true)
        case 24:
            // A tensor entry that is not an object, or one named like the metadata.
            spec.extra.append(rng.pick([#""x":1"#, #""x":"F32""#, #""x":[]"#, #""x":null"#,
                                        #""__metadata__":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"#]))
            if spec.extra.last!.hasPrefix(#""__metadata__""#) { spec.metadata = nil }
            return invalid("bad entry")
        default:
            // A field the format does not know.
            spec.tensors[t].fields.append(("extra", rng.pick(["1", #""x""#, "null", "{}"])))
            return unsure("unknown field")
        }
    }

    /// The begin offset of a valid tensor's range.
    static func offsetBegin(_ tensor: TensorSpec) -> Int {
        let text = tensor.fields[2].value.dropFirst().prefix { $0 != "," }
        return Int(text)!
    }

    /// The product of `shape`, or nil if a dimension is negative or the product overflows.
    static func product(_ shape: [Int]) -> Int? {
        var result = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (next, overflow) = result.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// The little-endian 32-bit word at `bytes[at..<at + 4]`.
    static func littleEndianWord(_ bytes: [UInt8], at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { word, i in word | UInt32(bytes[at + i]) << UInt32(8 * i) }
    }

    /// `string` as a JSON string literal.
    static func json(_ string: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
