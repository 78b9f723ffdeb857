import Foundation
import TestSupport
import XCTest

/// The round trip with a real Keras, where one is installed: `KERAS_PYTHON` names a Python with
/// tensorflow-cpu, keras and safetensors (e.g. /tmp/tfenv/bin/python); without it these skip, and the
/// committed fixtures (KerasRoundTripTests) stand in. With `KERAS_MNIST=1` and data/mnist present,
/// the whole MNIST path runs too (a Keras-trained teacher in, a distilled student out; minutes).
final class KerasInstalledTests: XCTestCase {
    private func python() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["KERAS_PYTHON"], FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("set KERAS_PYTHON to a Python with tensorflow-cpu, keras and safetensors to run the Keras round trip")
        }
        return URL(fileURLWithPath: path)
    }

    private var script: String { ProcessRun.packageRoot.appendingPathComponent("scripts/keras-roundtrip.py").path }

    func testModelsGoBackToKerasWithTheSameOutputs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keras-selftest-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try ProcessRun.run(try python(), [script, "selftest", "--directory", directory], timeout: 600)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(run.output.components(separatedBy: "largest output difference 0.00e+00").count - 1, 2, run.output)
    }

    func testAKerasTeacherDistilsAStudentThatGoesBackToKeras() throws {
        let python = try python()
        let data = ProcessRun.packageRoot.appendingPathComponent("data/mnist").path
        guard ProcessInfo.processInfo.environment["KERAS_MNIST"] == "1", FileManager.default.fileExists(atPath: "\(data)/train-images-idx3-ubyte") else {
            throw XCTSkip("set KERAS_MNIST=1, with MNIST in data/mnist, for the whole path on MNIST")
        }
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("keras-mnist-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let run = try ProcessRun.run(python, [script, "mnist", "--data", data, "--distill", distill.path, "--work", work], timeout: 3600)
        XCTAssertEqual(run.status, 0, run.output)
        let figures = run.output.matches(of: #/accuracy ([0-9.]+)%/#).map { String($0.1) }
        XCTAssertEqual(figures.count, 4, run.output)
        if figures.count == 4 {
            XCTAssertEqual(figures[0], figures[1], "the imported teacher evaluates as in Keras: \(run.output)")
            XCTAssertEqual(figures[2], figures[3], "the exported student evaluates as in swift-distill: \(run.output)")
        }
    }

    /// Functional models both ways (`keras-roundtrip.py graph`): a Keras-trained residual teacher is
    /// imported, its cached logits match Keras's, and the distilled MobileNet-like student goes back to
    /// Keras with the same accuracy; on the Tests/Fixtures/mnist-small images (about a minute).
    func testFunctionalModelsGoBothWays() throws {
        let python = try python()
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let data = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("keras-graph-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let run = try ProcessRun.run(python, [script, "graph", "--data", data, "--distill", distill.path, "--work", work, "--limit", "2000"],
                                     timeout: 900)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("teacher logits in swift-distill's cache against Keras's, 2000 training images"), run.output)
    }
}
