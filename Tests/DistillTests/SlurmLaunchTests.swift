import Foundation
import TestSupport
import XCTest

/// Launches through a real Slurm (CI starts a one-node Slurm with scripts/slurm-one-node.sh, which
/// returns once job steps run; under CI these tests fail when Slurm cannot run them, elsewhere they
/// skip): `srun --mpi=pmix` starts one job of two ranks, and `srun` without an MPI plugin is a
/// one-line error, never two independent runs.
final class SlurmLaunchTests: XCTestCase {
    private let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path

    /// srun, once the node is idle: an earlier test's job leaves it "completing" for a while, and a
    /// busy machine makes that longer, so this waits (up to 5 minutes) rather than giving up.
    private func slurm() throws -> URL {
        guard let srun = ProcessRun.findOnPath("srun"), let sinfo = ProcessRun.findOnPath("sinfo") else {
            throw Requirement.unavailable("Slurm is not installed (CI starts one with scripts/slurm-one-node.sh)")
        }
        var state = ""
        let idle = BackgroundProcess.wait(for: 300, every: 1) {
            state = (try? ProcessRun.run(sinfo, ["-h", "-o", "%T"], timeout: 30).output) ?? "sinfo did not answer"
            return state.split(whereSeparator: \.isNewline).contains { ["idle", "mixed"].contains($0) }
        }
        guard idle else { throw Requirement.unavailable("the Slurm node is not idle after 300 s: \(state)") }
        let plugins = try ProcessRun.run(srun, ["--mpi=list"], timeout: 60)
        guard plugins.output.contains("pmix") else { throw Requirement.unavailable("this Slurm has no PMIx plugin: \(plugins.output)") }
        return srun
    }

    private func trainTeacher(_ srunFlags: [String], output: String) throws -> ProcessRun {
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let run = try ProcessRun.run(try slurm(), srunFlags + ["-n", "2", "--time=5", distill.path, "train-teacher", "--data-dir", fixture,
            "--teacher-epochs", "1", "--train-limit", "500", "--test-limit", "100", "--plain", "--threads", "1", "--output", output],
            timeout: 240)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    func testSrunWithPMIxStartsOneJobOfTwoRanks() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try trainTeacher(["--mpi=pmix"], output: output)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("layout: 2 ranks (MPI)"), run.output)
        XCTAssertEqual(run.output.components(separatedBy: "teacher test accuracy").count - 1, 1, "one job, reported once: \(run.output)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: output))
    }

    func testSrunWithoutAnMPIPluginIsAnError() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-\(UUID()).safetensors").path
        let run = try trainTeacher(["--mpi=none"], output: output)
        XCTAssertNotEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("says this is one of 2 tasks, but no MPI launch environment"), run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no task may write the output alone")
    }
}
