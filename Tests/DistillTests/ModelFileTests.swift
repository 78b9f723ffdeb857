import Foundation
import NN
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

    /// IDX files of `count` 8 x 8 x 3 images in 4 classes (class k lights channel k % 3, in the top
    /// half for k < 3, else all over), so a small model can learn them.
    private func colourData(_ name: String, count: Int) throws -> (images: String, labels: String) {
        var rng = SeededGenerator(seed: UInt64(count))
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<count {
            let k = i % 4
            labels.append(UInt8(k))
            for row in 0..<8 { for _ in 0..<8 { for channel in 0..<3 {
                let lit = channel == k % 3 && (k == 3 || row < 4)
                pixels.append(UInt8(truncatingIfNeeded: (lit ? 160 : 0) + Int(rng.next() % 64)))
            } } }
        }
        func idx(_ magic: UInt32, _ dims: [Int], _ payload: [UInt8]) -> Data {
            var bytes: [UInt8] = []
            for word in [magic] + dims.map(UInt32.init) { bytes += withUnsafeBytes(of: word.bigEndian, Array.init) }
            return Data(bytes + payload)
        }
        let paths = ("\(directory)/\(name)-images", "\(directory)/\(name)-labels")
        try idx(0x804, [count, 8, 8, 3], pixels).write(to: URL(fileURLWithPath: paths.0))
        try idx(0x801, [count], labels).write(to: URL(fileURLWithPath: paths.1))
        return paths
    }

    func testColourImagesOfAnotherSizeWithModelsThatFitThem() throws {
        let train = try colourData("train", count: 240), test = try colourData("test", count: 80)
        let data = ["--train-images", train.images, "--train-labels", train.labels, "--test-images", test.images, "--test-labels", test.labels]
        let teacher = try modelFile("wide", input: "[null, 8, 8, 3]", hidden: 64, classes: 4)
        let student = try modelFile("narrow", input: "[null, 8, 8, 3]", hidden: 8, classes: 4)
        var run = try distill(data + ["--teacher-model", teacher, "--student-model", student, "--teacher-epochs", "3",
                                      "--student-epochs", "2", "--plain"])
        XCTAssertEqual(run.status, 0, run.output)
        let accuracy = try XCTUnwrap(run.output.firstMatch(of: #/teacher test accuracy ([0-9.]+)%/#), run.output)
        XCTAssertGreaterThan(Double(accuracy.1)!, 60, "4 classes, learnable: \(run.output)")
        // The presets take 28 x 28 x 1: one line, before training.
        run = try distill(data + ["--plain"])
        XCTAssertNotEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("the teacher model 'teacher' takes inputs of shape [28, 28, 1], but the data's samples are [8, 8, 3]"),
                      run.output)
        run = try distill(data + ["--train-labels", "\(directory)/nowhere", "--plain"])
        XCTAssertTrue(run.output.contains("nowhere: not found"), run.output)
        run = try distill(["--train-images", train.images, "--plain"])
        XCTAssertTrue(run.output.contains("--train-images and --train-labels go together"), run.output)
    }

    /// The committed fixtures of scripts/make-shape-fixtures.py: 32 x 32 x 3 IDX images in 4 classes
    /// with a small CNN, and Keras's mnist.npz layout with the keras preset.
    func testThirtyTwoByThirtyTwoColourIDXAndAnNPZTrainEndToEnd() throws {
        let json = """
            {"class_name": "Sequential", "config": {"name": "NAME", "layers": [
              {"class_name": "InputLayer", "config": {"batch_shape": [null, 32, 32, 3], "name": "input_layer"}},
              {"class_name": "Conv2D", "config": {"name": "conv2d", "filters": FILTERS, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}},
              {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "pool_size": 2}},
              {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.1}},
              {"class_name": "GlobalAveragePooling2D", "config": {"name": "global_average_pooling2d"}},
              {"class_name": "Dense", "config": {"name": "dense", "units": 4, "activation": "softmax"}}]}}
            """
        var models: [String] = []
        for (name, filters) in [("teacher", 32), ("student", 8)] {
            let path = "\(directory)/\(name)-32.json"
            try Data(json.replacingOccurrences(of: "NAME", with: name).replacingOccurrences(of: "FILTERS", with: "\(filters)").utf8)
                .write(to: URL(fileURLWithPath: path))
            models.append(path)
        }
        let colour = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/colour-32").path
        var run = try distill(["--data-dir", colour, "--teacher-model", models[0], "--student-model", models[1], "--teacher-epochs", "8",
                               "--student-epochs", "6", "--batch-size", "16", "--learning-rate", "0.01", "--plain"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("240 training, 60 test samples, 32 x 32 x 3, 4 classes"), run.output)
        let accuracy = try XCTUnwrap(run.output.firstMatch(of: #/teacher test accuracy ([0-9.]+)%/#), run.output)
        XCTAssertGreaterThan(Double(accuracy.1)!, 80, "four coloured squares; chance is 25%: \(run.output)")

        let npz = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small.npz").path
        run = try distill(["--npz", npz, "--teacher-epochs", "1", "--student-epochs", "1", "--plain"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("data: \(npz): 1000 training, 200 test samples, 28 x 28 x 1, 10 classes"), run.output)
        run = try distill(["--npz", npz, "--data-dir", colour])
        XCTAssertTrue(run.output.contains("--npz holds both splits"), run.output)
    }

    /// A quick run on the first few samples keeps the data set's classes (MNIST's first four labels are
    /// 5, 0, 4, 1; the file's are 0...9), so the 10-output presets still fit.
    func testAFewSamplesKeepTheClassesOfTheWholeFile() throws {
        let run = try distill(["train-teacher", "--data-dir", fixture, "--train-limit", "4", "--test-limit", "10", "--teacher-epochs", "1",
                               "--output", "\(directory)/four.safetensors", "--plain"])
        XCTAssertEqual(run.status, 0, run.output)
    }

    func testModelsThatDoNotFitStopBeforeTraining() throws {
        let cases: [(arguments: [String], expected: String)] = [
            (["--student-model", try modelFile("twelve", classes: 12)], "has 12 output units, the teacher 'teacher' 10"),
            (["--teacher-model", try modelFile("rgb", input: "[null, 32, 32, 3]")], "takes inputs of shape [32, 32, 3], but the data's samples are [28, 28, 1]"),
            (["--teacher-model", try modelFile("three", classes: 3), "--student-model", "\(directory)/three.json"],
             "the teacher model 'three' has [3] outputs, but the data's labels are 0...9 (10 classes)"),
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

