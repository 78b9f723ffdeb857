import Foundation
import NN
import TestSupport
import XCTest

/// `distill-student --teacher-logits`: logits Keras wrote for the training set (the committed
/// fixture: `keras-roundtrip.py logits` of a Keras-trained MNIST teacher over Tests/Fixtures/mnist-small)
/// distil a student; a file with the wrong rows, classes or a NaN stops before training.
final class ExternalLogitsTests: XCTestCase {
    private let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    private let logits = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-roundtrip/mnist-small-teacher-logits.safetensors").path
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("external-logits-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func distillStudent(_ logitsFile: String, _ extra: [String] = []) throws -> ProcessRun {
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let run = try ProcessRun.run(binary, ["distill-student", "--data-dir", fixture, "--teacher-logits", logitsFile, "--student-epochs", "1",
                                              "--test-limit", "500", "--plain", "--output", "\(directory)/student.safetensors"] + extra,
                                     timeout: 300)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    func testKerasLogitsDistilAStudent() throws {
        let run = try distillStudent(logits)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("teacher: logits from \(logits), 4000 x 10"), run.output)
        let accuracy = try XCTUnwrap(run.output.firstMatch(of: #/distilled student test accuracy ([0-9.]+)%/#), run.output)
        XCTAssertGreaterThan(Double(accuracy.1)!, 70, run.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/student.safetensors"))
    }

    /// A class-balanced quarter of the training set, distilled from the whole set's logits picked by
    /// original id; the same run on 2 ranks picks the same samples and trains alike.
    func testATrainFractionDistilsFromTheRowsOfItsSamples() throws {
        let one = try distillStudent(logits, ["--train-fraction", "0.25"])
        XCTAssertEqual(one.status, 0, one.output)
        XCTAssertTrue(one.output.contains("training on 1000 of 4000 samples: a class-balanced 25.0%"), one.output)
        let single = try SafeTensors.read(from: "\(directory)/student.safetensors").tensors
        let mpirun = try Requirement.mpirun()
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let two = try ProcessRun.run(mpirun, ProcessRun.mpirunFlags(ranks: 2) + [binary.path, "distill-student", "--data-dir", fixture,
            "--teacher-logits", logits, "--student-epochs", "1", "--test-limit", "500", "--plain", "--train-fraction", "0.25",
            "--threads", "1", "--output", "\(directory)/two.safetensors"], timeout: 300)
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertTrue(two.output.contains("layout: 2 ranks"), two.output)
        let pair = try SafeTensors.read(from: "\(directory)/two.safetensors").tensors
        let largest = zip(single, pair).flatMap { zip($0.values, $1.values).map { abs($0 - $1) } }.max() ?? .infinity
        XCTAssertLessThan(largest, 2e-4, "the same subset and batches on 2 ranks")
        // Logits of the plain images cannot teach on augmented views: refused before training.
        let augmented = try distillStudent(logits, ["--augment", "flip"])
        XCTAssertNotEqual(augmented.status, 0)
        XCTAssertTrue(augmented.output.contains("--augment flip: the teacher must see each augmented view"), augmented.output)
        // A student whose own leading RandomFlip makes views that logits of the plain images never saw: refused, naming the layer.
        let flipping = "\(directory)/flipping.json"
        try flippingJSON().write(toFile: flipping, atomically: true, encoding: .utf8)
        let flipped = try distillStudent(logits, ["--student-model", flipping])
        XCTAssertNotEqual(flipped.status, 0)
        XCTAssertTrue(flipped.output.contains("the student's layer 'flip' augments its input: the teacher must see each augmented view"),
                      flipped.output)
        // Augmentation behind another layer is no leading chain: the teacher could not be run on its view.
        let late = "\(directory)/late.json"
        try flippingJSON(before: #"{"class_name": "Rescaling", "config": {"name": "scale", "scale": 0.5, "offset": 0.0}}, "#)
            .write(toFile: late, atomically: true, encoding: .utf8)
        let lateFlip = try distillStudent(logits, ["--student-model", late])
        XCTAssertNotEqual(lateFlip.status, 0)
        XCTAssertTrue(lateFlip.output.contains("the student's layer 'flip' augments in training but not in a leading chain right after the input"),
                      lateFlip.output)
        let bad = try distillStudent(logits, ["--train-fraction", "0"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("--train-fraction must be in (0, 1], got 0.0"), bad.output)
    }

    /// A Sequential student: `before` (layer JSON objects, each followed by ", "), a horizontal RandomFlip named flip, Flatten, Dense(10).
    private func flippingJSON(before: String = "") -> String {
        #"{"class_name": "Sequential", "config": {"name": "f", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1], "name": "in"}}, "#
            + before + #"{"class_name": "RandomFlip", "config": {"name": "flip", "mode": "horizontal"}}, {"class_name": "Flatten", "config": {"name": "flat"}}, {"class_name": "Dense", "config": {"name": "out", "units": 10}}]}}"#
    }

    func testBadLogitFilesAreRefusedBeforeTraining() throws {
        let (tensors, _) = try SafeTensors.read(from: logits)
        var values = tensors[0].values
        let nineClasses = "\(directory)/nine.safetensors"
        try SafeTensors.write([NamedTensor(name: "logits", shape: [4000, 9], values: Array(values[..<36000]))], metadata: [:], to: nineClasses)
        values[123] = .nan
        let withNaN = "\(directory)/nan.safetensors"
        try SafeTensors.write([NamedTensor(name: "logits", shape: [4000, 10], values: values)], metadata: [:], to: withNaN)
        let wrongName = "\(directory)/name.safetensors"
        try SafeTensors.write([NamedTensor(name: "scores", shape: [4000, 10], values: values)], metadata: [:], to: wrongName)
        let cases: [(file: String, extra: [String], expected: String)] = [
            (logits, ["--train-limit", "100"], "holds logits for 4000 samples, but the training set has 100"),
            (nineClasses, [], "holds 9 logits per sample, but the student has 10 classes"),
            (withNaN, [], "logit 123 (row 12) is nan"),
            (wrongName, [], "expected one tensor 'logits'"),
            ("\(directory)/missing.safetensors", [], "missing.safetensors: no such file"),
        ]
        for (file, extra, expected) in cases {
            let run = try distillStudent(file, extra)
            XCTAssertNotEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("error: \(file): \(expected)") || run.output.contains(expected), "expected '\(expected)' in \(run.output)")
            XCTAssertFalse(run.output.contains("epoch 1"), "stopped before training: \(run.output)")
        }
    }
}
