import Foundation
import TestSupport
import XCTest
@testable import NN

final class SafeTensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Round trip

    /// Values whose bits are easy to lose: signed zeros, subnormals, extremes, infinities, NaN payloads.
    private let awkward: [Float] = [
        -0.0, 0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity,
        Float(bitPattern: 0x7FC0_0001), Float(bitPattern: 0x7FA0_0000), Float(bitPattern: 0xFFC0_0000),
        1e-30, -1e30, .pi, 1, -1, 0.1,
    ]

    private var sample: [NamedTensor] {
        [
            NamedTensor(name: "conv1/kernel", shape: [3, 3, 1, 2], values: (0..<18).map { Float($0) * -0.25 }),
            NamedTensor(name: "awkward", shape: [2, 9], values: awkward),
            NamedTensor(name: "scalar", shape: [], values: [42]),
            NamedTensor(name: "empty", shape: [0, 4], values: []),
            NamedTensor(name: "a \"quoted\" \\ name\twith ünïcødé 🙂", shape: [1], values: [-0.0]),
            NamedTensor(name: "dense/bias", shape: [5], values: [1e-38, 3e38, -7, 0.5, Float(bitPattern: 7)]),
        ]
    }

    func testRoundTripIsBitExactAndKeepsOrderAndMetadata() throws {
        let path = file("model.safetensors")
        let metadata = ["format": "np", "note": "line\nbreak \"quotes\" \\ ünï", "": "empty key"]
        try SafeTensors.write(sample, metadata: metadata, to: path)
        let (tensors, readMetadata) = try SafeTensors.read(from: path)
        XCTAssertEqual(tensors.map(\.name), sample.map(\.name))
        XCTAssertEqual(tensors.map(\.shape), sample.map(\.shape))
        XCTAssertEqual(tensors.map { $0.values.map(\.bitPattern) }, sample.map { $0.values.map(\.bitPattern) })
        XCTAssertEqual(readMetadata, metadata)
    }

    func testOrderIsTheWriteOrderNotTheNameOrder() throws {
        let path = file("order.safetensors")
        let names = ["z", "a", "m", "b"]
        try SafeTensors.write(names.map { NamedTensor(name: $0, shape: [1], values: [1]) }, metadata: [:], to: path)
        XCTAssertEqual(try SafeTensors.read(from: path).tensors.map(\.name), names)
    }

    func testNoTensorsAndNoMetadata() throws {
        let path = file("empty.safetensors")
        try SafeTensors.write([], metadata: [:], to: path)
        let (tensors, metadata) = try SafeTensors.read(from: path)
        XCTAssertEqual(tensors, [])
        XCTAssertEqual(metadata, [:])
    }

    func testHeaderBytesAreExactlyTheFormat() throws {
        let path = file("golden.safetensors")
        try SafeTensors.write([NamedTensor(name: "w", shape: [2], values: [1, -2])], metadata: ["k": "v"], to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let json = #"{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let header = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        let expected = littleEndian(UInt64(header.utf8.count)) + Array(header.utf8)
            + littleEndian(Float(1).bitPattern) + littleEndian(Float(-2).bitPattern)
        XCTAssertEqual(bytes, expected)
    }

    func testDataStartIsEightByteAlignedAndPaddedWithSpaces() throws {
        for length in 1...16 {
            let path = file("aligned-\(length).safetensors")
            let name = String(repeating: "x", count: length)
            try SafeTensors.write([NamedTensor(name: name, shape: [1], values: [3])], metadata: [:], to: path)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let headerLength = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
            XCTAssertEqual((8 + headerLength) % 8, 0, "name length \(length)")
            XCTAssertEqual(bytes.count, 8 + headerLength + 4)
            let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
            XCTAssertTrue(header.hasPrefix("{") && header.trimmingCharacters(in: .init(charactersIn: " ")).hasSuffix("}"))
            XCTAssertEqual(try SafeTensors.read(from: path).tensors.first?.values, [3])
        }
    }

    func testReadsAnUnpaddedFileFromAnotherWriter() throws {
        // Keys in a different order, no padding (data starts unaligned), extra whitespace.
        let header = #"{ "b": {"shape": [1], "data_offsets": [4, 8], "dtype": "F32"}, "a": {"data_offsets": [0, 4], "dtype": "F32", "shape": []} }"#
        let path = rawFile(header: header, data: littleEndian(Float(1.5).bitPattern) + littleEndian(Float(-3).bitPattern))
        XCTAssertNotEqual((8 + header.utf8.count) % 8, 0)
        let tensors = try SafeTensors.read(from: path).tensors
        XCTAssertEqual(tensors, [NamedTensor(name: "a", shape: [], values: [1.5]),
                                 NamedTensor(name: "b", shape: [1], values: [-3])])
    }

    // MARK: Writing

    func testWriteReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws {
        let path = file("replace.safetensors")
        try SafeTensors.write([NamedTensor(name: "old", shape: [1], values: [1])], metadata: [:], to: path)
        try SafeTensors.write([NamedTensor(name: "new", shape: [2], values: [2, 3])], metadata: [:], to: path)
        XCTAssertEqual(try SafeTensors.read(from: path).tensors, [NamedTensor(name: "new", shape: [2], values: [2, 3])])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["replace.safetensors"])
    }

    func testWriteRejectsShapeThatDoesNotMatchValuesAndKeepsTheOldFile() throws {
        let path = file("mismatch.safetensors")
        let good = [NamedTensor(name: "w", shape: [1], values: [1])]
        try SafeTensors.write(good, metadata: [:], to: path)
        assertWriteFails([NamedTensor(name: "w", shape: [2, 3], values: [1, 2, 3])], to: path, mentioning: "[2, 3]")
        XCTAssertEqual(try SafeTensors.read(from: path).tensors, good)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["mismatch.safetensors"])
    }

    func testWriteRejectsNegativeAndOverflowingShapes() {
        assertWriteFails([NamedTensor(name: "w", shape: [-1, -1], values: [1])], to: file("neg.safetensors"),
                         mentioning: "[-1, -1]")
        assertWriteFails([NamedTensor(name: "w", shape: [Int.max, 2], values: [])], to: file("big.safetensors"),
                         mentioning: "shape")
    }

    func testWriteRejectsDuplicateAndReservedNames() {
        let t = NamedTensor(name: "w", shape: [1], values: [1])
        assertWriteFails([t, t], to: file("dup.safetensors"), mentioning: "'w' appears more than once")
        assertWriteFails([NamedTensor(name: "__metadata__", shape: [1], values: [1])], to: file("reserved.safetensors"),
                         mentioning: "reserved")
    }

    func testWriteIntoMissingDirectoryThrows() {
        assertWriteFails([], to: directory.appendingPathComponent("no/such/dir/x.safetensors").path, mentioning: "cannot")
    }

    // MARK: Malformed files: read throws a CheckpointError that names the file

    func testMissingFile() {
        assertReadFails(file("does-not-exist.safetensors"), mentioning: "no such file")
    }

    func testFileShorterThanEightBytes() throws {
        let path = file("short.safetensors")
        try Data([1, 0, 0, 0, 0]).write(to: URL(fileURLWithPath: path))
        assertReadFails(path, mentioning: "file is 5 bytes, expected at least 8")
    }

    func testHeaderLengthLargerThanFile() {
        assertReadFails(rawFile(header: "{}", data: [], declaredLength: 100), mentioning: "header length is 100 bytes")
        assertReadFails(rawFile(header: "{}", data: [], declaredLength: .max), mentioning: "\(UInt64.max)")
    }

    func testHeaderNotJSON() {
        assertReadFails(rawFile(header: #"{"w": {"dtype": "F32""#, data: []), mentioning: "not valid UTF-8 JSON")
        assertReadFails(rawFile(header: "", data: []), mentioning: "not valid UTF-8 JSON")
        let path = rawFile(header: "{\"\u{7F}\":{}}", data: [])
        var bytes = [UInt8](try! Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[10] = 0xFF  // an invalid UTF-8 byte inside the key
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
        assertReadFails(path, mentioning: "not valid UTF-8 JSON")
    }

    func testHeaderNotAnObject() {
        assertReadFails(rawFile(header: "[1, 2]", data: []), mentioning: "header is [1,2], expected a JSON object")
        assertReadFails(rawFile(header: #"{"w": [0, 4]}"#, data: [0, 0, 0, 0]), mentioning: "tensor 'w' is [0,4]")
    }

    func testTensorEntryMissingFields() {
        let fields = [#""dtype": "F32""#, #""shape": [1]"#, #""data_offsets": [0, 4]"#]
        for (missing, name) in ["dtype", "shape", "data_offsets"].enumerated() {
            let present = fields.enumerated().filter { $0.offset != missing }.map(\.element).joined(separator: ", ")
            assertReadFails(rawFile(header: "{\"w\": {\(present)}}", data: [0, 0, 0, 0]),
                            mentioning: "tensor 'w' has no \"\(name)\"")
        }
    }

    func testDtypeOtherThanF32() {
        assertReadFails(entryFile(dtype: #""F16""#, shape: "[2]", offsets: "[0, 4]", dataBytes: 4),
                        mentioning: #"dtype "F16", expected "F32""#)
        assertReadFails(entryFile(dtype: "32", shape: "[1]", offsets: "[0, 4]", dataBytes: 4), mentioning: "dtype 32")
    }

    func testShapeWithNegativeEntries() {
        assertReadFails(entryFile(shape: "[-1]", offsets: "[0, 4]", dataBytes: 4), mentioning: "shape [-1]")
    }

    func testShapeThatIsNotIntegers() {
        for shape in ["[2.5]", "[true]", #"["1"]"#, "3", "[1e30]", "[18446744073709551616]", "null"] {
            assertReadFails(entryFile(shape: shape, offsets: "[0, 4]", dataBytes: 4), mentioning: "shape")
        }
    }

    func testShapeWhoseProductOverflows() {
        assertReadFails(entryFile(shape: "[9223372036854775807, 2]", offsets: "[0, 4]", dataBytes: 4),
                        mentioning: "more than Int.max")
        assertReadFails(entryFile(shape: "[4611686018427387904]", offsets: "[0, 4]", dataBytes: 4),
                        mentioning: "more than Int.max")
    }

    func testDataOffsetsOutOfRange() {
        assertReadFails(entryFile(shape: "[2]", offsets: "[0, 8]", dataBytes: 4), mentioning: "beyond the 4 bytes")
        assertReadFails(entryFile(shape: "[1]", offsets: "[-4, 0]", dataBytes: 4), mentioning: "[-4, 0]")
        assertReadFails(entryFile(shape: "[1]", offsets: "[0]", dataBytes: 4), mentioning: "expected [begin, end]")
        assertReadFails(entryFile(shape: "[1]", offsets: "[0, 4, 8]", dataBytes: 4), mentioning: "expected [begin, end]")
        assertReadFails(entryFile(shape: "[1]", offsets: "[0, 9223372036854775807]", dataBytes: 4), mentioning: "beyond")
    }

    func testDataOffsetsEndBeforeBegin() {
        assertReadFails(entryFile(shape: "[1]", offsets: "[4, 0]", dataBytes: 4), mentioning: "expected 0 <= begin <= end")
    }

    func testByteCountNotFourTimesElementCount() {
        assertReadFails(entryFile(shape: "[2, 2]", offsets: "[0, 12]", dataBytes: 12),
                        mentioning: "holds 12 bytes, expected 4 * product([2, 2]) = 16")
    }

    func testOverlappingTensors() {
        let header = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "#
            + #""b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        assertReadFails(rawFile(header: header, data: Array(repeating: 0, count: 12)),
                        mentioning: "tensor 'b' at bytes [4, 12) overlaps tensor 'a'")
    }

    func testHolesAndTrailingBytes() {
        let header = #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "#
            + #""b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#
        assertReadFails(rawFile(header: header, data: Array(repeating: 0, count: 12)), mentioning: "belong to no tensor")
        assertReadFails(entryFile(shape: "[1]", offsets: "[0, 4]", dataBytes: 8),
                        mentioning: "tensors cover 4 bytes of data, but the file holds 8")
    }

    func testMetadataThatIsNotStrings() {
        let entry = #""w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#
        assertReadFails(rawFile(header: #"{"__metadata__": {"epochs": 3}, "# + entry + "}", data: [0, 0, 0, 0]),
                        mentioning: "metadata 'epochs' is 3, expected a string")
        assertReadFails(rawFile(header: #"{"__metadata__": ["x"], "# + entry + "}", data: [0, 0, 0, 0]),
                        mentioning: "\"__metadata__\" is [\"x\"]")
    }

    // MARK: Interoperability

    /// Writes a file from Swift and reads it back with scripts/check-safetensors.py (stdlib + numpy).
    func testPythonNumpyReadsTheFile() throws {
        // The python3 on PATH, or Debian's (where scripts/install-deps.sh puts python3-numpy).
        guard let python = ["python3", "/usr/bin/python3"].first(where: { (try? run([$0, "-c", "import numpy"]))?.status == 0 }) else {
            throw Requirement.unavailable("no python3 with numpy is available")
        }
        let path = file("interop.safetensors")
        let metadata = ["format": "np", "note": "ünï \"q\""]
        try SafeTensors.write(sample, metadata: metadata, to: path)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/check-safetensors.py").path
        let result = try run([python, script, path])
        XCTAssertEqual(result.status, 0, result.errors)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
        XCTAssertEqual((json["data_start"] as? Int).map { $0 % 8 }, 0)
        XCTAssertEqual(json["metadata"] as? [String: String], metadata)
        let tensors = try XCTUnwrap(json["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.map { $0["name"] as? String }, sample.map(\.name))
        XCTAssertEqual(tensors.map { $0["shape"] as? [Int] }, sample.map(\.shape))
        XCTAssertEqual(tensors.map { ($0["bits"] as? [Int])?.map(UInt32.init) }, sample.map { $0.values.map(\.bitPattern) })
    }

    // MARK: Helpers

    private func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A file with the given header text and data bytes; `declaredLength` overrides the length prefix.
    private func rawFile(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> String {
        let path = file("raw-\(UUID().uuidString).safetensors")
        let bytes = littleEndian(declaredLength ?? UInt64(header.utf8.count)) + Array(header.utf8) + data
        XCTAssertNoThrow(try Data(bytes).write(to: URL(fileURLWithPath: path)))
        return path
    }

    /// A file with one tensor "w" whose fields are the given JSON texts, followed by `dataBytes` zero bytes.
    private func entryFile(dtype: String = #""F32""#, shape: String, offsets: String, dataBytes: Int) -> String {
        rawFile(header: "{\"w\": {\"dtype\": \(dtype), \"shape\": \(shape), \"data_offsets\": \(offsets)}}",
                data: Array(repeating: 0, count: dataBytes))
    }

    private func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    private func assertReadFails(_ path: String, mentioning fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.read(from: path), line: line) { error in
            assertCheckpointError(error, path: path, mentioning: fragment, line: line)
        }
    }

    private func assertWriteFails(_ tensors: [NamedTensor], to path: String, mentioning fragment: String,
                                  line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.write(tensors, metadata: [:], to: path), line: line) { error in
            assertCheckpointError(error, path: path, mentioning: fragment, line: line)
        }
    }

    private func assertCheckpointError(_ error: Error, path: String, mentioning fragment: String, line: UInt) {
        guard let error = error as? CheckpointError else {
            return XCTFail("expected CheckpointError, got \(error)", line: line)
        }
        let text = error.description
        XCTAssertTrue(text.hasPrefix(path + ": "), "does not name the file: \(text)", line: line)
        XCTAssertTrue(text.contains(fragment), "'\(text)' does not mention '\(fragment)'", line: line)
        XCTAssertFalse(text.contains("\n"), "not one line: \(text)", line: line)
    }

    /// Runs `arguments` through /usr/bin/env; returns the exit status, stdout and stderr.
    private func run(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let (stdout, stderr) = (Pipe(), Pipe())
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output, String(decoding: errors, as: UTF8.self))
    }
}
