import Foundation
import TestSupport
import XCTest

/// A rank that stops answering (SIGSTOP) ends the job within --collective-timeout, with an error
/// naming the call and the rank that did not answer, instead of leaving the other rank waiting forever.
final class CollectiveTimeoutTests: XCTestCase {
    func testAStoppedRankEndsTheJobWithinTheTimeout() throws {
        let mpirun = try Requirement.mpirun()
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
        let job = try BackgroundProcess(mpirun, ProcessRun.mpirunFlags(ranks: 2) + [distill.path, "train-teacher", "--data-dir", fixture,
            "--teacher-epochs", "50", "--train-limit", "2000", "--plain", "--threads", "1", "--collective-timeout", "3",
            "--output", FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID()).safetensors").path])
        // Into the training steps: the first epoch's line is printed (a fixed sleep lost that race on a
        // busy machine).
        var ranks: [Int32] = []
        BackgroundProcess.wait(for: 180) {
            ranks = job.children(named: "distill")
            return ranks.count == 2 && job.output.contains("teacher - epoch 1/50")
        }
        XCTAssertEqual(ranks.count, 2, "two ranks should be running: \(job.output)")
        XCTAssertTrue(job.output.contains("teacher - epoch 1/50"), "no epoch finished: \(job.output)")
        let stopped = Date()
        kill(ranks[1], SIGSTOP)
        defer { for rank in ranks { kill(rank, SIGKILL) } }
        let status = job.exitStatus(within: 60)
        let waited = Date().timeIntervalSince(stopped)
        XCTAssertNotNil(status, "the job still runs \(waited) s after a rank stopped: \(job.output)")
        XCTAssertNotEqual(status, 0, job.output)
        XCTAssertLessThan(waited, 20, job.output)
        XCTAssertTrue(job.output.contains("past --collective-timeout 3 s"), job.output)
        // The waiting rank names the stopped one (found by the roll call), not itself.
        let named = try XCTUnwrap(job.output.firstMatch(of: #/rank (\d) of 2: MPI_\w+ .*; rank (\d) did not answer/#), job.output)
        XCTAssertNotEqual(named.1, named.2, job.output)
    }
}
