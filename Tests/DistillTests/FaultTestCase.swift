import Foundation
import TestSupport
import XCTest

/// What the fault tests share: a scratch directory, the built binary, runs alone or as two ranks
/// with their own arguments (MPMD), and the check that a run failed with one clear line before training.
class FaultTestCase: XCTestCase {
    let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    var binary: URL { get throws { try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self)) } }

    func distill(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> ProcessRun {
        let run = try ProcessRun.run(try binary, arguments, timeout: timeout, extraEnvironment: environment)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    func assertFails(_ run: ProcessRun, saying expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(run.status, 0, run.output, file: file, line: line)
        XCTAssertTrue(run.output.contains(expected), "expected '\(expected)' in: \(run.output)", file: file, line: line)
        XCTAssertFalse(run.output.contains("Fatal error"), "a trap, not an error message: \(run.output)", file: file, line: line)
        XCTAssertFalse(run.output.contains(" - epoch 1/"), "failed only after training: \(run.output)", file: file, line: line)
    }

    /// Two ranks, each with its own arguments (Open MPI's MPMD form `A : B`).
    func mpmd(_ first: [String], _ second: [String]) throws -> ProcessRun {
        let mpirun = try Requirement.mpirun()
        let flags = ProcessRun.mpirunFlags(ranks: 1)
        let run = try ProcessRun.run(mpirun, flags + [try binary.path] + first + [":"] + flags.suffix(2) + [try binary.path] + second,
                                     timeout: 120)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    var quick: [String] { ["--data-dir", fixture, "--train-limit", "300", "--test-limit", "100", "--plain", "--threads", "1"] }
}
