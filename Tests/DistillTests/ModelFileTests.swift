import Foundation
import TestSupport
import XCTest

/// Models from Keras JSON files on the command line: they train, their checkpoints carry them
/// (so evaluate needs no model flag), and models that do not fit the data or each other stop
/// before training with one line.
final class ModelFileTests: XCTestCase {
    private let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("model-files-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func distill(_ arguments: [String]) throws -> ProcessRun {
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self), "build the distill product first")
        let run = try ProcessRun.run(binary, arguments, timeout: 300)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    /// A Keras-3-style JSON file: an InputLayer of `input`, then Flatten, Dense(hidden, relu), Dense(classes, softmax),
    /// with layer names as a Keras session numbers them.
    private func modelFile(_ name: String, input: String = "[null, 28, 28, 1]", hidden: Int = 24, classes: Int = 10) throws -> String {
        let json = """
            {"module": "keras", "class_name": "Sequential", "config": {"name": "\(name)", "trainable": true, "layers": [
              {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": \(input), "dtype": "float32", "name": "input_layer_3"}},
              {"module": "keras.layers", "class_name": "Flatten", "config": {"name": "flatten_2", "trainable": true, "data_format": "channels_last"}},
              {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense_4", "trainable": true, "units": \(hidden), "activation": "relu",
                "use_bias": true, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}},
                "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}}, "kernel_regularizer": null}},
              {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense_5", "trainable": true, "units": \(classes), "activation": "softmax"}}
            ]}}
            """
        let path = "\(directory)/\(name).json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testAStudentFromAJSONFileTrainsAndItsCheckpointCarriesIt() throws {
        let student = try modelFile("mlp")
        let saved = "\(directory)/models"
        var run = try distill(["--data-dir", fixture, "--train-limit", "256", "--test-limit", "100", "--teacher-epochs", "1",
                               "--student-epochs", "1", "--student-model", student, "--save-directory", saved, "--plain"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("distilled student test accuracy"), run.output)
        // The checkpoint alone rebuilds the student: its JSON and layer names travel with it.
        let file = "\(saved)/student-distilled.safetensors"
        let header = try String(decoding: Data(contentsOf: URL(fileURLWithPath: file)).prefix(8192), as: UTF8.self)
        XCTAssertTrue(header.contains("dense_4.kernel") && header.contains("dense_5.bias"), header)
        XCTAssertTrue(header.contains(#"\"name\": \"mlp\""#), header)
        run = try distill(["evaluate", "--data-dir", fixture, "--test-limit", "100", "--model", file])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("mlp (student model)"), run.output)
        // distill-student takes the teacher's model from its file, whatever the preset says.
        run = try distill(["distill-student", "--data-dir", fixture, "--train-limit", "256", "--test-limit", "100", "--student-epochs", "1",
                           "--preset", "hidden", "--student-model", student, "--teacher", "\(saved)/teacher.safetensors",
                           "--output", "\(directory)/again.safetensors", "--plain"])
        XCTAssertEqual(run.status, 0, run.output)
    }

    func testModelsThatDoNotFitStopBeforeTraining() throws {
        let cases: [(arguments: [String], expected: String)] = [
            (["--student-model", try modelFile("twelve", classes: 12)], "has 12 output units, the teacher 'teacher' 10"),
            (["--teacher-model", try modelFile("rgb", input: "[null, 32, 32, 3]")], "takes inputs of shape [32, 32, 3], but the data's samples are [28, 28, 1]"),
            (["--student-model", try modelFile("three", classes: 3)], "the student model 'three' has [3] outputs, but the data's labels go up to 9"),
            (["--student-model", "\(directory)/missing.json"], "missing.json: no such file"),
            (["--teacher-model", directory], "is not a regular file"),
        ]
        for (arguments, expected) in cases {
            let run = try distill(["--data-dir", fixture, "--train-limit", "256", "--test-limit", "100", "--plain"] + arguments)
            XCTAssertNotEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains(expected), "expected '\(expected)' in: \(run.output)")
            XCTAssertFalse(run.output.contains("epoch 1"), "stopped before training: \(run.output)")
            XCTAssertFalse(run.output.contains("Fatal error"), run.output)
        }
    }
}
