import Distill
import Foundation
import TestSupport
import XCTest

/// The `distill` executable end to end: bad flags and bad files end with one clear line and a
/// non-zero exit; the subcommands save and reload models.
final class CommandLineTests: XCTestCase {
    private let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path

    private func distill(_ arguments: [String]) throws -> ProcessRun {
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self), "build the distill product first")
        let run = try ProcessRun.run(binary, arguments, timeout: 300)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    private func assertFails(_ arguments: [String], saying expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try distill(arguments)
        XCTAssertNotEqual(run.status, 0, run.output, file: file, line: line)
        XCTAssertTrue(run.output.contains(expected), "expected '\(expected)' in: \(run.output)", file: file, line: line)
        XCTAssertFalse(run.output.contains("Fatal error"), "a trap, not an error message: \(run.output)", file: file, line: line)
    }

    func testVersionIsThatOfSavedModels() throws {
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let run = try ProcessRun.run(binary, ["--version"], timeout: 60)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output.trimmingCharacters(in: .whitespacesAndNewlines), SwiftDistill.version)
        XCTAssertEqual(Checkpoint.producer, "swift-distill \(SwiftDistill.version)")
    }

    /// A range lives in one place: every command that takes the value refuses it with the same line.
    func testEveryCommandRefusesAnAlphaOutOfRangeWithTheSameLine() throws {
        for command in [[], ["run"], ["distill-student"], ["sweep"]] {
            try assertFails(command + ["--alpha", "1.5"], saying: "Error: --alpha must be in [0, 1], got 1.5")
        }
        for command in [[], ["train-teacher"], ["sweep"]] {
            try assertFails(command + ["--batch-size", "0"], saying: "Error: --batch-size must be positive, got 0")
            try assertFails(command + ["--learning-rate", "20"], saying: "Error: --learning-rate must be a positive number up to 10, got 20.0")
        }
        try assertFails(["sweep", "--temperature", "5,2000"], saying: "Error: --temperature must be in (0, 1000], got 2000.0")
        try assertFails(["--temperature", "2000"], saying: "Error: --temperature must be in (0, 1000], got 2000.0")
    }

    func testInvalidFlagsAreRejectedByName() throws {
        try assertFails(["--alpha", "1.5"], saying: "--alpha must be in [0, 1], got 1.5")
        try assertFails(["--alpha=-0.1"], saying: "--alpha must be in [0, 1], got -0.1")
        try assertFails(["--temperature", "0"], saying: "--temperature must be in (0, 1000], got 0.0")
        try assertFails(["--temperature", "2147483648"], saying: "--temperature must be in (0, 1000], got 2.1474836e+09")
        try assertFails(["--temperature", "0x10"], saying: "'0x10' is not a decimal number")
        try assertFails(["--learning-rate", "inf"], saying: "'inf' is not a decimal number")
        try assertFails(["--alpha", "nan"], saying: "'nan' is not a decimal number")
        try assertFails(["--learning-rate", "1e39"], saying: "'1e39' is not a decimal number of the range of Float")
        try assertFails(["--batch-size", "0"], saying: "--batch-size must be positive, got 0")
        try assertFails(["--teacher-epochs=-1"], saying: "--teacher-epochs must be positive, got -1")
        try assertFails(["--student-epochs", "0"], saying: "--student-epochs must be positive, got 0")
        try assertFails(["--learning-rate", "0"], saying: "--learning-rate must be a positive number")
        try assertFails(["--threads", "0"], saying: "--threads must be in 1...4096, got 0")
        try assertFails(["--threads", "2147483648"], saying: "--threads must be in 1...4096, got 2147483648")
        try assertFails(["--gemm", "mkl"], saying: "mkl")
        try assertFails(["--preset", "huge"], saying: "huge")
        try assertFails(["bench", "--steps", "0"], saying: "--steps must be in 1...10000, got 0")
        try assertFails(["--optimizer", "sgd:momentum=2"], saying: "--optimizer 'sgd:momentum=2': momentum must be in [0, 1], got 2")
        try assertFails(["--schedule", "piecewise:boundaries=2:values=0.1/0.01", "--learning-rate", "0.1"],
                        saying: "--learning-rate 0.1 is not used with --schedule piecewise, whose values are the rates")
        try assertFails(["--teacher-optimizer", "lion"], saying: "--teacher-optimizer 'lion': unknown name 'lion'; expected one of adam, adamw, sgd")
        try assertFails(["--augment", "translate=2.5"], saying: "--augment 'translate=2.5': translate is a whole number of pixels, got 2.5")
        try assertFails(["--teacher-augment", "blur"], saying: "--teacher-augment 'blur': augment has no parameter 'blur'")
        try assertFails(["--restore-best"], saying: "--restore-best needs a validation split to watch: give --validation-fraction, e.g. 0.1")
        try assertFails(["--patience", "3"], saying: "--patience needs a validation split to watch: give --validation-fraction, e.g. 0.1")
        try assertFails(["--validation-fraction", "0.6"], saying: "--validation-fraction must be in [0, 0.5], got 0.6")
        try assertFails(["--validation-fraction", "0.1", "--patience=-1"], saying: "--patience must be in 0...100000, got -1")
        try assertFails(["--monitor", "val_auc"], saying: "val_auc")
    }

    func testMissingDataNamesTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("no-data-\(UUID())").path
        try assertFails(["--data-dir", directory], saying: "error: \(directory)/train-images-idx3-ubyte")
    }

    func testCorruptCheckpointNamesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID()).safetensors").path
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try assertFails(["evaluate", "--data-dir", fixture, "--model", path], saying: "error: \(path):")
        try assertFails(["distill-student", "--data-dir", fixture, "--teacher", path], saying: "error: \(path):")
    }

    func testTrainSaveAndEvaluate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let teacher = directory.appendingPathComponent("teacher.safetensors").path
        let student = directory.appendingPathComponent("student.safetensors").path
        let common = ["--data-dir", fixture, "--train-limit", "256", "--test-limit", "100", "--preset", "hidden", "--plain"]

        var run = try distill(["train-teacher", "--teacher-epochs", "1", "--output", teacher] + common)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("teacher - epoch 1/1"), run.output)
        run = try distill(["distill-student", "--teacher", teacher, "--student-epochs", "1", "--output", student] + common)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("teacher logits for 256 training samples computed once"), run.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: teacher + ".logits.safetensors"))
        // A second distillation from the same teacher and data reuses the saved logits.
        run = try distill(["distill-student", "--teacher", teacher, "--student-epochs", "1", "--output", student] + common)
        XCTAssertTrue(run.output.contains("teacher logits: reused"), run.output)

        run = try distill(["evaluate", "--model", student, "--data-dir", fixture, "--test-limit", "100"])
        XCTAssertEqual(run.status, 0, run.output)
        // The file names its model: the hidden preset's student (55338 parameters; the keras one has 20490).
        XCTAssertTrue(run.output.contains("student (student model), 55338 parameters") && run.output.contains("on 100 samples"), run.output)
        // A student is not a teacher, and the message names the file.
        try assertFails(["distill-student", "--teacher", student, "--data-dir", fixture], saying: "\(student): holds a student, expected a teacher")
    }

    /// `summary` as Keras's model.summary(): the preset teacher's layers and its 1,433,610 parameters
    /// (Keras's count_params), from the JSON and from a checkpoint alike.
    func testSummaryShowsLayersParametersAndFLOPs() throws {
        let json = ProcessRun.packageRoot.appendingPathComponent("Sources/Distill/Presets/keras-teacher.json").path
        let run = try distill(["summary", json])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("| conv2d (conv2d) | (None, 14, 14, 256) | 2560 | 903168 |"), run.output)   // 14*14*256 * 2*9
        XCTAssertTrue(run.output.contains("| dense (dense) | (None, 10) | 250890 | 501760 |"), run.output)
        XCTAssertTrue(run.output.contains("parameters: 1433610"), run.output)
        let student = FileManager.default.temporaryDirectory.appendingPathComponent("summary-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: student) }
        XCTAssertEqual(try distill(["train-teacher", "--preset", "hidden", "--teacher-epochs", "1", "--data-dir", fixture, "--train-limit", "64",
                                    "--test-limit", "32", "--plain", "--output", student]).status, 0)
        XCTAssertTrue(try distill(["summary", student]).output.contains("parameters: \(try Architecture.hidden.model(.teacher, gemm: Fixture.gemm).parameterCount)"))
        try assertFails(["summary", "/nonexistent.json"], saying: "/nonexistent.json: no such file")
    }

    func testMetricsFilesAndLearningCurves() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try distill(["--data-dir", fixture, "--train-limit", "256", "--test-limit", "100", "--teacher-epochs", "2",
                               "--student-epochs", "1", "--plain", "--metrics-dir", directory])
        XCTAssertEqual(run.status, 0, run.output)
        func lines(_ name: String) throws -> [String] {
            try String(contentsOfFile: "\(directory)/\(name).csv", encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let teacher = try lines("teacher")
        XCTAssertEqual(teacher.first, "epoch,loss,accuracy,seconds")
        XCTAssertEqual(teacher.dropFirst().map { $0.split(separator: ",").first! }, ["1", "2"])
        XCTAssertEqual(try lines("student-distilled").first, "epoch,student_loss,distillation_loss,accuracy,seconds")
        XCTAssertEqual(try lines("student-scratch").count, 2)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot") {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/learning-curves.png"), run.output)
        }
    }

    func testHelpExplainsEveryFlag() throws {
        let run = try distill(["help", "run"])
        for flag in ["--dataset", "--data-dir", "--teacher-epochs", "--student-epochs", "--batch-size", "--learning-rate",
                     "--alpha", "--temperature", "--seed", "--preset", "--threads", "--gemm", "--single-process", "--save-directory",
                     "--checkpoint-dir", "--checkpoint-every", "--resume", "--collective-timeout", "--metrics-dir"] {
            XCTAssertTrue(run.output.contains(flag), "help lacks \(flag): \(run.output)")
        }
        // Every option of every command has a sentence: a flag line with nothing after it and no indented
        // continuation below is an unexplained flag.
        for command in ["run", "train-teacher", "distill-student", "sweep", "evaluate", "bench"] {
            let help = try distill(["help", command])
            XCTAssertEqual(help.status, 0, help.output)
            let lines = help.output.components(separatedBy: "\n")
            for (i, line) in lines.enumerated() where line.hasPrefix("  --") {
                let text = line.replacing(#/^  --[\w-]+(/--[\w-]+)?( <[^>]+>)?/#, with: "").trimmingCharacters(in: .whitespaces)
                let explained = !text.isEmpty
                    || (i + 1 < lines.count && lines[i + 1].hasPrefix("      ") && !lines[i + 1].trimmingCharacters(in: .whitespaces).hasPrefix("-"))
                XCTAssertTrue(explained, "\(command): '\(line)' has no help text")
            }
        }
    }
}
