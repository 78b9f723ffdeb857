import Foundation
import NN
import TestSupport
import XCTest

/// The inputs a second audit found accepted with exit 0 (or hanging), each now one line and a
/// non-zero exit, before training; nothing of an existing output is replaced by a failed run.
final class RoundTwoFaultTests: FaultTestCase {
    private let presets = ProcessRun.packageRoot.appendingPathComponent("Sources/Distill/Presets").path

    private func trainTeacher(_ output: String, _ extra: [String] = []) throws {
        let run = try distill(["train-teacher", "--teacher-epochs", "1", "--output", output] + quick + extra)
        XCTAssertEqual(run.status, 0, run.output)
    }

    /// A preset's JSON with its first `original` text replaced, written to the scratch directory.
    private func preset(_ name: String, replacing original: String, with replacement: String) throws -> String {
        let text = try String(contentsOfFile: "\(presets)/\(name)", encoding: .utf8)
        XCTAssertTrue(text.contains(original), "\(name) holds \(original)")
        let file = path("edited-\(name)")
        try text.replacingOccurrences(of: original, with: replacement).write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// 1. A misspelt or unknown option no longer trains with the default.
    func testUnknownLayerOptionsStop() throws {
        // An existing output stays as it was.
        let output = path("t.safetensors")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: output))
        for (key, className, original) in [("foo", "Dense", #""units": 10"#), ("use_bais", "Dense", #""units": 10"#),
                                           ("padd1ng", "Conv2D", #""padding": "same""#), ("stride", "Conv2D", #""padding": "same""#)] {
            let file = try preset(className == "Dense" ? "keras-student.json" : "keras-teacher.json", replacing: original,
                                  with: original + #", "\#(key)": 2"#)
            assertFails(try distill(["train-teacher", "--teacher-model", file, "--output", output] + quick),
                        saying: "option \(key) is not an option of \(className)")
        }
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "keep")
    }

    /// 2. A stored member whose bytes no longer match its CRC-32, and a deflated member with flipped bits.
    func testDamagedNPZMembersStop() throws {
        let original = [UInt8](try Data(contentsOf: ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small.npz")))
        let start = try XCTUnwrap(memberData(original, named: "x_train.npy"))
        var damaged = original
        damaged[start + 500] ^= 0x10
        let archive = path("damaged.npz")
        try Data(damaged).write(to: URL(fileURLWithPath: archive))
        assertFails(try distill(["train-teacher", "--npz", archive, "--output", path("t.safetensors"), "--plain"]), saying: "\(archive):x_train")
    }

    /// Where member `name`'s data starts in a zip archive (after its local header).
    private func memberData(_ bytes: [UInt8], named name: String) -> Int? {
        let target = Array(name.utf8)
        for at in 0..<(bytes.count - 30) where bytes[at..<at + 4] == [0x50, 0x4B, 0x03, 0x04] {
            let nameLength = Int(bytes[at + 26]) | Int(bytes[at + 27]) << 8, extra = Int(bytes[at + 28]) | Int(bytes[at + 29]) << 8
            if Array(bytes[(at + 30)..<(at + 30 + nameLength)]) == target { return at + 30 + nameLength + extra }
        }
        return nil
    }

    /// 3. An edited model JSON inside a saved model, a repeated metadata key, a tensor listed twice.
    func testEditedOrAmbiguousModelFilesStop() throws {
        let teacher = path("teacher.safetensors")
        try trainTeacher(teacher)
        let evaluate = ["evaluate", "--data-dir", fixture, "--test-limit", "100", "--model"]
        let (tensors, original) = try SafeTensors.read(from: teacher)
        var metadata = original
        let json = try XCTUnwrap(metadata["model"])
        metadata["model"] = json.replacingOccurrences(of: #""padding": "same""#, with: #""padding": "valid""#)
        XCTAssertNotEqual(metadata["model"], json)
        try SafeTensors.write(tensors, metadata: metadata, to: path("edited.safetensors"))
        assertFails(try distill(evaluate + [path("edited.safetensors")]), saying: "do not match their checksum")

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: teacher)))
        let headerLength = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << UInt64(8 * $1) })
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        func rewrite(_ name: String, _ newHeader: String) throws -> String {
            var text = Array(newHeader.utf8)
            text += Array(repeating: UInt8(ascii: " "), count: (8 - text.count % 8) % 8)
            let length = UInt64(text.count)
            let file = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + text + bytes[(8 + headerLength)...]
            try Data(file).write(to: URL(fileURLWithPath: path(name)))
            return path(name)
        }
        let role = try rewrite("role.safetensors", header.replacingOccurrences(of: #"{"__metadata__":{"#, with: #"{"__metadata__":{"role":"student","#))
        assertFails(try distill(evaluate + [role]), saying: "header lists __metadata__.role twice")
        let first = tensors[0].name
        let twice = try rewrite("twice.safetensors", header.replacingOccurrences(
            of: "\"\(first)\":{", with: "\"\(first)\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"\(first)\":{"))
        assertFails(try distill(evaluate + [twice]), saying: "header lists \(first) twice")
    }

    /// The checksum scripts/keras-roundtrip.py writes (scripts/swift_distill_checksum.py) is the one swift-distill checks.
    func testThePythonChecksumIsSwiftDistills() throws {
        let teacher = path("teacher.safetensors")
        try trainTeacher(teacher)
        let script = ProcessRun.packageRoot.appendingPathComponent("scripts/swift_distill_checksum.py").path
        let run = try ProcessRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script, teacher], timeout: 120)
        XCTAssertEqual(run.status, 0, run.output)
        let stored = try XCTUnwrap(try SafeTensors.read(from: teacher).metadata["checksum"])
        XCTAssertTrue(run.output.contains("computed \(stored)"), run.output)
    }

    /// 4. A state copied from a run on 1000 samples is refused by a run on 2000, naming the data.
    func testAStateOfAnotherRunIsRefused() throws {
        let first = path("first"), second = path("second")
        let arguments = [try binary.path, "--data-dir", fixture, "--test-limit", "100", "--teacher-epochs", "2", "--student-epochs", "1",
                         "--threads", "1", "--plain", "--checkpoint-every", "3"]
        let job = try BackgroundProcess(try binary, Array(arguments.dropFirst()) + ["--train-limit", "1000", "--checkpoint-dir", first])
        // Stopped when the state is seen and signalled while stopped: the run cannot end first.
        XCTAssertTrue(job.stop(timeout: 300) {
            ((try? FileManager.default.contentsOfDirectory(atPath: first)) ?? []).contains { $0.hasPrefix("state-teacher-") }
        }, job.output)
        kill(job.pid, SIGTERM)
        kill(job.pid, SIGCONT)
        XCTAssertEqual(job.exitStatus(within: 120), 75, job.output)
        try FileManager.default.copyItem(atPath: first, toPath: second)
        assertFails(try distill(Array(arguments.dropFirst()) + ["--train-limit", "2000", "--checkpoint-dir", second, "--resume"]),
                    saying: "was written with other training data (1000 samples of 28x28x1")
        // The same run resumes from it.
        let resumed = try distill(Array(arguments.dropFirst()) + ["--train-limit", "1000", "--checkpoint-dir", first, "--resume"], timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("resuming teacher from"), resumed.output)
    }

    /// 5. Devices, FIFOs, empty names and directory names are not outputs; the device stays a device.
    func testOutputsThatAreNotRegularFilesStop() throws {
        assertFails(try distill(["train-teacher", "--output", "/dev/full"] + quick), saying: "--output /dev/full: is a character device")
        var info = stat()
        XCTAssertEqual(stat("/dev/full", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/full is still a device")
        let fifo = path("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertFails(try distill(["train-teacher", "--output", fifo] + quick), saying: "is a FIFO")
        assertFails(try distill(["train-teacher", "--metrics-json", fifo, "--output", path("t.safetensors")] + quick),
                    saying: "--metrics-json \(fifo): is a FIFO")
        assertFails(try distill(["train-teacher", "--output", ""] + quick), saying: "--output '': the path is empty")
        assertFails(try distill(["train-teacher", "--output", path("missing") + "/"] + quick), saying: "ends in '/'")
        assertFails(try distill(["train-teacher", "--output", directory.path + "/"] + quick), saying: "ends in '/'")
    }

    /// 6, 7, 10. Flags that change the collectives, numbers that differ slightly, another subcommand,
    /// --single-process on one rank: each named at start-up, none hangs.
    func testRanksGivenDifferentCommandLinesAreNamed() throws {
        let teacher = path("teacher.safetensors")
        try trainTeacher(teacher)
        let student = ["distill-student", "--teacher", teacher, "--student-epochs", "1", "--output", path("s.safetensors")] + quick
        assertFails(try mpmd(student, student + ["--run-teacher"]), saying: "rank 1 has --run-teacher, rank 0 does not")
        assertFails(try mpmd(student, student + ["--train-fraction", "0.5"]), saying: "rank 1 has --train-fraction 0.5, rank 0 does not")
        let train = ["train-teacher", "--teacher-epochs", "1", "--output", path("t.safetensors")] + quick
        assertFails(try mpmd(train + ["--learning-rate", "1e-3"], train + ["--learning-rate", "0.0010000001"]),
                    saying: "rank 0 has --learning-rate 0.001, rank 1 has --learning-rate 0.0010000001")
        assertFails(try mpmd(train, ["evaluate", "--model", teacher] + quick), saying: "rank 0 has the command train-teacher, rank 1 has the command evaluate")
        assertFails(try mpmd(train, train + ["--single-process"]), saying: "rank 1 has --single-process, rank 0 does not")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("t.safetensors")))
    }

    /// 8. Values that overflow: a layer option beyond its range, in a JSON file or inside a checkpoint,
    /// and weights that make the loss infinite.
    func testValuesThatOverflowStop() throws {
        let slope = try preset("keras-student.json", replacing: #""negative_slope": 0.2"#, with: #""negative_slope": 1e300"#)
        assertFails(try distill(["train-teacher", "--teacher-model", slope, "--output", path("t.safetensors")] + quick),
                    saying: "option negative_slope is 1e+300; expected a number in 0.0...1000.0")
        let teacher = path("teacher.safetensors")
        try trainTeacher(teacher)
        var (tensors, metadata) = try SafeTensors.read(from: teacher)
        metadata["checksum"] = nil
        let edited = try XCTUnwrap(metadata["model"]).replacingOccurrences(of: #""negative_slope": 0.2"#, with: #""negative_slope": 1e300"#)
        XCTAssertNotEqual(edited, metadata["model"], "the preset teacher has a LeakyReLU")
        var signed = metadata
        signed["model"] = edited
        try SafeTensors.writeChecksummed(tensors, metadata: signed, to: path("slope.safetensors"))
        let evaluate = ["evaluate", "--data-dir", fixture, "--test-limit", "100", "--model"]
        assertFails(try distill(evaluate + [path("slope.safetensors")]), saying: "negative_slope is 1e+300")
        // Finite weights whose products overflow Float32: the loss is not a figure to report.
        tensors = tensors.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.values.map { $0 * 1e30 }) }
        try SafeTensors.writeChecksummed(tensors, metadata: metadata, to: path("huge.safetensors"))
        assertFails(try distill(evaluate + [path("huge.safetensors")]), saying: "the loss became")
    }

    /// 9. --teacher-logits takes a .npy array: the same student as from the same logits in safetensors.
    func testTeacherLogitsFromNPY() throws {
        let logits = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-roundtrip/mnist-small-teacher-logits.safetensors").path
        let table = try XCTUnwrap(try SafeTensors.read(from: logits).tensors.first)
        let npy = path("logits.npy")
        try Data(Self.npy(table)).write(to: URL(fileURLWithPath: npy))
        for (source, output) in [(logits, "from-safetensors"), (npy, "from-npy")] {
            let run = try distill(["distill-student", "--data-dir", fixture, "--teacher-logits", source, "--student-epochs", "1",
                                   "--test-limit", "100", "--plain", "--threads", "1", "--output", path(output)], timeout: 300)
            XCTAssertEqual(run.status, 0, run.output)
        }
        let (a, b) = (try SafeTensors.read(from: path("from-safetensors")).tensors, try SafeTensors.read(from: path("from-npy")).tensors)
        XCTAssertEqual(a.map { $0.values.map(\.bitPattern) }, b.map { $0.values.map(\.bitPattern) })
        let notLogits = path("labels.npy")
        try Data(Self.npy(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", payload: [1, 2, 3]))
            .write(to: URL(fileURLWithPath: notLogits))
        assertFails(try distill(["distill-student", "--teacher-logits", notLogits, "--output", path("s.safetensors")] + quick),
                    saying: "is a .npy array of |u1 [3]; expected floats [samples, classes]")
    }

    /// A float32 `.npy` of `tensor`, as `np.save` writes it.
    static func npy(_ tensor: NamedTensor) -> [UInt8] {
        let shape = "(" + tensor.shape.map(String.init).joined(separator: ", ") + (tensor.shape.count == 1 ? ",)" : ")")
        let payload = tensor.values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32($0))) } }
        return npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }", payload: payload)
    }

    static func npy(header: String, payload: [UInt8]) -> [UInt8] {
        var text = Array(header.utf8)
        let padded = (10 + text.count + 1 + 63) / 64 * 64   // magic, version, length, header and '\n', 64-byte aligned
        text += Array(repeating: UInt8(ascii: " "), count: padded - 10 - text.count - 1) + [UInt8(ascii: "\n")]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + payload
    }
}
