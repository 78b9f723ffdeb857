import Foundation
import TestSupport
import XCTest

/// scripts/teacher-comparison.py (standard library only) computes the figures the README's teacher
/// comparison stands on: its Welch t, degrees of freedom and 95% interval, and its paired replay
/// statistics, against values worked out by hand; and it refuses a run recorded twice.
final class TeacherComparisonScriptTests: XCTestCase {
    private let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/teacher-comparison.py").standardized.path
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("teacher-comparison-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// One JSON line per run, as keras-crosscheck.py and add-swift write them.
    private func runs(_ name: String, _ lines: [(producer: String, seed: Int, accuracy: Double, losses: [Double])]) throws -> String {
        let path = directory.appendingPathComponent(name).path
        let text = lines.map { line in
            "{\"producer\": \"\(line.producer)\", \"seed\": \(line.seed), \"epoch_losses\": \(line.losses), "
                + "\"test_accuracy\": \(line.accuracy)}\n"
        }.joined()
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func python(_ arguments: [String]) throws -> ProcessRun {
        try ProcessRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", script] + arguments, timeout: 60)
    }

    /// Two groups of three with standard deviation 1 each: difference 1, standard error sqrt(2/3),
    /// t = 1.2247, df = 4 exactly, t(0.975, 4) = 2.7764, so the interval is 1 -/+ 2.2670.
    func testWelchTDegreesOfFreedomAndInterval() throws {
        let path = try runs("runs.jsonl", [
            ("swift-distill", 1, 0.97, [0.2, 0.1]), ("swift-distill", 2, 0.98, [0.2, 0.2]), ("swift-distill", 3, 0.99, [0.2, 0.3]),
            ("keras", 1, 0.96, [0.1, 0.1]), ("keras", 2, 0.97, [0.1, 0.1]), ("keras", 3, 0.98, [0.1, 0.1]),
        ])
        let result = try python(["report", path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("keras: 3 runs, seeds [1, 2, 3], test accuracy 97.00 ± 1.00%"), result.output)
        XCTAssertTrue(result.output.contains("swift-distill: 3 runs, seeds [1, 2, 3], test accuracy 98.00 ± 1.00%"), result.output)
        XCTAssertTrue(result.output.contains("+1.000 points, Welch t 1.22, df 4.0, 95% interval [-1.267, +3.267]"), result.output)
        // Epoch 2: swift-distill 0.2 ± 0.1 against a constant 0.1: t = 0.1 / (0.1 / sqrt 3) = 1.73, df 2.
        XCTAssertTrue(result.output.contains("epoch 2 training loss, swift-distill - keras: +0.1000, Welch t 1.73, df 2.0"), result.output)
    }

    /// Replays paired by seed: accuracy differences 0.1, 0.2 and 0.3 points give mean 0.2, sd 0.1 and
    /// paired t 3.46; the arithmetic alone spreads results by 0.1 / sqrt 2. A seed without a
    /// swift-distill run is left out of the pairing.
    func testPairedReplayStatistics() throws {
        let ours = try runs("runs.jsonl", [
            ("swift-distill", 1, 0.971, [0.15, 0.09]), ("swift-distill", 2, 0.982, [0.14, 0.08]), ("swift-distill", 3, 0.975, [0.13, 0.07]),
            ("keras", 1, 0.5, [1, 1]),
        ])
        let replays = try runs("replays.jsonl", [
            ("keras-replay", 1, 0.970, [0.15, 0.09]), ("keras-replay", 2, 0.980, [0.14, 0.08]), ("keras-replay", 3, 0.972, [0.13, 0.07]),
            ("keras-replay", 9, 0.5, [1, 1]),
        ])
        let result = try python(["paired", ours, replays])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output.components(separatedBy: "\n").filter { $0.hasPrefix("seed ") }.count, 3, result.output)
        XCTAssertTrue(result.output.contains("test accuracy (points), swift-distill - Keras replay: mean +0.200, sd 0.100, "
            + "paired t 3.46; spread from arithmetic alone 0.071 against 0.557 over seeds"), result.output)
    }

    func testPairingNeedsTwoSeedsInCommon() throws {
        let ours = try runs("runs.jsonl", [("swift-distill", 1, 0.97, [0.1])])
        let replays = try runs("replays.jsonl", [("keras-replay", 1, 0.97, [0.1]), ("keras-replay", 2, 0.97, [0.1])])
        let result = try python(["paired", ours, replays])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("1 replays with a swift-distill run of the same seed, expected at least 2"), result.output)
    }

    /// A run added twice would count twice: add-swift refuses it, add-keras skips it.
    func testARunIsRecordedOnce() throws {
        let path = try runs("runs.jsonl", [("swift-distill", 4, 0.97, [0.1]), ("keras", 4, 0.96, [0.1])])
        let metrics = directory.appendingPathComponent("metrics.json").path
        try #"{"metrics": ["loss", "accuracy"], "epochs": [[0.1, 0.9]], "test": {"accuracy": 0.97}}"#
            .write(toFile: metrics, atomically: true, encoding: .utf8)
        let again = try python(["add-swift", path, "4", metrics])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("swift-distill seed 4 is already there"), again.output)

        let keras = try runs("keras.jsonl", [("keras", 4, 0.96, [0.1]), ("keras", 5, 0.95, [0.1])])
        let added = try python(["add-keras", path, keras])
        XCTAssertEqual(added.status, 0, added.output)
        let seeds = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["producer"] as? String == "keras" }.compactMap { $0["seed"] as? Int }
        XCTAssertEqual(seeds, [4, 5])
    }
}
