import Foundation
import TestSupport
import XCTest

/// Runs the `collective-check` executable: across two real processes under `mpirun`,
/// and alone (SingleProcess). Skips the mpirun cases only when mpirun is not installed.
final class CollectiveCheckTests: XCTestCase {
    /// The `N passed, M failed` line, alone on a line.
    private static let summary = try! NSRegularExpression(pattern: "^([0-9]+) passed, ([0-9]+) failed$", options: .anchorsMatchLines)

    func testTwoRanksPassEveryCheck() throws {
        let run = try mpirun(ranks: 2, ["--expect-size", "2"])
        XCTAssertEqual(run.status, 0, run.output)
        let (passed, failed) = try XCTUnwrap(Self.counts(in: run.output), run.output)
        XCTAssertGreaterThanOrEqual(passed, 10, run.output)
        XCTAssertEqual(failed, 0, run.output)
        XCTAssertTrue(run.output.contains("collective-check: 2 rank(s)"), run.output)
    }

    func testOneRankWhereTwoAreExpectedFails() throws {
        let run = try mpirun(ranks: 1, ["--expect-size", "2"])
        XCTAssertNotEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("error: the job has 1 rank(s) but --expect-size 2"), run.output)
        XCTAssertNil(Self.counts(in: run.output), "no checks may run: \(run.output)")
    }

    func testAFailingRankEndsTheJobWithoutHanging() throws {
        let run = try mpirun(ranks: 2, ["--expect-size", "2", "--fail-on-rank", "1"])
        XCTAssertNotEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("error: rank 1 of 2: injected failure"), run.output)
    }

    func testSingleProcessWithoutMPIRun() throws {
        let run = try ProcessRun.run(try collectiveCheck(), ["--expect-size", "1"])
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("SingleProcess"), run.output)
        XCTAssertEqual(Self.counts(in: run.output)?.failed, 0, run.output)
    }

    func testSingleProcessAbortsWhenMoreRanksAreExpected() throws {
        let run = try ProcessRun.run(try collectiveCheck(), ["--expect-size", "2"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(run.output.hasPrefix("error: the job has 1 rank(s)"), run.output)
    }

    func testUnknownArgumentAborts() throws {
        let run = try ProcessRun.run(try collectiveCheck(), ["--expect-size", "1", "--bogus"])
        XCTAssertEqual(run.status, 1, run.output)
        XCTAssertTrue(run.output.contains("error: unknown argument '--bogus'"), run.output)
    }

    /// Ranks as threads of one process: one that never reaches a barrier is named once the others have
    /// waited past the timeout; one that fails ends the process while the others wait. One line each, status 1.
    func testAThreadRankThatNeverArrivesOrFailsEndsTheProcess() throws {
        let started = Date()
        let stuck = try ProcessRun.run(try collectiveCheck(), ["--thread-ranks", "3", "--stuck-rank", "2", "--collective-timeout", "1"])
        XCTAssertEqual(stuck.status, 1, stuck.output)
        XCTAssertTrue(stuck.output.contains(" of 3: barrier waited ") && stuck.output.contains("s, past --collective-timeout 1 s, for rank 2 (finished or stuck)"),
                      stuck.output)
        XCTAssertEqual(stuck.output.components(separatedBy: "error:").count, 2, "one line: \(stuck.output)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "the wait ended long after the timeout")

        let failing = try ProcessRun.run(try collectiveCheck(), ["--thread-ranks", "2", "--fail-on-rank", "1"])
        XCTAssertEqual(failing.status, 1, failing.output)
        XCTAssertEqual(failing.output.trimmingCharacters(in: .whitespacesAndNewlines), "error: rank 1 of 2: injected failure (--fail-on-rank 1)")
    }

    // MARK: - Helpers

    /// Runs collective-check under `mpirun -np ranks` with the container-safe flags of `ProcessRun.mpirunFlags`.
    private func mpirun(ranks: Int, _ arguments: [String]) throws -> ProcessRun {
        let mpirun = try Requirement.mpirun()
        let run = try ProcessRun.run(mpirun, ProcessRun.mpirunFlags(ranks: ranks) + [try collectiveCheck().path] + arguments)
        XCTAssertFalse(run.timedOut, "mpirun did not finish within the timeout: \(run.output)")
        return run
    }

    /// The collective-check executable, built into the same products directory as this test bundle.
    private func collectiveCheck() throws -> URL {
        guard let url = ProcessRun.product("collective-check", besideBundleOf: Self.self) else {
            XCTFail("no collective-check beside the test bundle; build it with `swift build --product collective-check`")
            throw CocoaError(.fileNoSuchFile)
        }
        return url
    }

    private static func counts(in output: String) -> (passed: Int, failed: Int)? {
        let range = NSRange(output.startIndex..., in: output)
        guard let match = summary.firstMatch(in: output, range: range),
              let passed = Range(match.range(at: 1), in: output).flatMap({ Int(output[$0]) }),
              let failed = Range(match.range(at: 2), in: output).flatMap({ Int(output[$0]) })
        else { return nil }
        return (passed, failed)
    }
}
