import Foundation
import NN
import TestSupport
import XCTest

/// A run killed (SIGKILL of one rank) or stopped (SIGTERM to mpirun, SIGTERM to a single process)
/// after a checkpoint, then resumed, ends with the same bytes in every model file as a run that was
/// never interrupted, on the same ranks, threads and GEMM backend.
final class ResumeTests: XCTestCase {
    private let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// 600 samples in batches of 32: 19 steps an epoch, a checkpoint every 5.
    private func arguments(_ checkpoints: String) throws -> [String] {
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        return [distill.path, "--data-dir", fixture, "--train-limit", "600", "--test-limit", "200", "--teacher-epochs", "3",
                "--student-epochs", "2", "--threads", "1", "--plain", "--checkpoint-dir", checkpoints, "--checkpoint-every", "5"]
    }

    private func launch(_ ranks: Int, _ arguments: [String]) throws -> BackgroundProcess {
        if ranks == 1 { return try BackgroundProcess(URL(fileURLWithPath: arguments[0]), Array(arguments.dropFirst())) }
        let mpirun = try Requirement.mpirun()
        return try BackgroundProcess(mpirun, ProcessRun.mpirunFlags(ranks: ranks) + arguments)
    }

    private func finish(_ ranks: Int, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let job = try launch(ranks, arguments)
        let status = job.exitStatus(within: 300)
        XCTAssertEqual(status, 0, job.output, file: file, line: line)
        return job.output
    }

    /// The three models' tensors (their metadata holds training seconds, which differ between runs).
    private func models(_ directory: String) throws -> [[NamedTensor]] {
        try ["teacher", "student-distilled", "student-scratch"].map { try SafeTensors.read(from: "\(directory)/\($0).safetensors").tensors }
    }

    private func hasState(_ directory: String, _ phase: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.hasPrefix("state-\(phase)-") }
    }

    /// Interrupts a run with `interrupt` once the teacher has saved a state, checks how it ended, resumes, and
    /// compares the three models with an uninterrupted run. The run's processes (the ranks, or the one
    /// process) run in slices and are stopped when the state is seen, so a short run cannot reach its end
    /// between the check and the interrupt, however busy the machine. `interrupt` acts while they are stopped
    /// (it gets their ids); `pending` is the signal they are then to have waiting (mpirun forwards what it
    /// gets), or nil. Then they continue.
    private func check(ranks: Int, interrupt: (BackgroundProcess, [Int32]) -> Void, pending: Int32?, expectStatus: (Int32) -> Bool,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = path("reference-\(ranks)"), resumed = path("resumed-\(ranks)")
        _ = try finish(ranks, try arguments(reference), file: file, line: line)

        let launched = Date()
        let job = try launch(ranks, try arguments(resumed))
        let saved = { self.hasState(resumed, "teacher") }
        let stopped = ranks == 1 ? (job.stop(timeout: 300, when: saved) ? [job.pid] : nil)
                                 : job.stopChildren(named: "distill", count: ranks, timeout: 300, when: saved)
        guard let stopped else { return XCTFail("no teacher state was seen: \(job.output)", file: file, line: line) }
        // The margin comes from this machine's pace: ending (a save, the collectives' shutdown) may
        // take as long as starting and saving a first state did, and never needs less than 10 s.
        let margin = max(10, 2 * Date().timeIntervalSince(launched))
        let interrupted = Date()
        interrupt(job, stopped)
        if let pending {
            XCTAssertTrue(BackgroundProcess.waitForPending(pending, in: stopped, timeout: margin), "signal \(pending) never reached \(stopped)",
                          file: file, line: line)
        }
        for pid in stopped { kill(pid, SIGCONT) }
        let status = job.exitStatus(within: 3 * margin)
        XCTAssertLessThan(Date().timeIntervalSince(interrupted), margin, "the job took too long to end: \(job.output)", file: file, line: line)
        XCTAssertTrue(status.map(expectStatus) == true, "exit status \(String(describing: status)): \(job.output)", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(resumed)/student-scratch.safetensors"), "the run was not interrupted")

        let output = try finish(ranks, try arguments(resumed) + ["--resume"], file: file, line: line)
        XCTAssertTrue(output.contains("resuming teacher from") || output.contains("teacher: finished in an earlier run"), output,
                      file: file, line: line)
        let (expected, actual) = (try models(reference), try models(resumed))
        for (name, (e, a)) in zip(["teacher", "distilled student", "scratch student"], zip(expected, actual)) {
            XCTAssertTrue(e.map(\.name) == a.map(\.name) && zip(e, a).allSatisfy { $0.values.map(\.bitPattern) == $1.values.map(\.bitPattern) },
                          "the resumed \(name) differs from the uninterrupted one", file: file, line: line)
        }
    }

    func testAResumeOnAnotherRankCountSaysSoAndFinishes() throws {
        let checkpoints = path("ranks")
        let launched = Date()
        let job = try launch(2, try arguments(checkpoints))
        XCTAssertTrue(BackgroundProcess.wait(for: 300) { hasState(checkpoints, "teacher") }, job.output)
        kill(job.pid, SIGTERM)
        XCTAssertNotNil(job.exitStatus(within: max(30, 6 * Date().timeIntervalSince(launched))), job.output)
        let output = try finish(1, try arguments(checkpoints) + ["--resume"])
        XCTAssertTrue(output.contains("(written by 2 rank(s), continuing on 1 with the same global batches)")
                      || output.contains("teacher: finished in an earlier run"), output)
        XCTAssertTrue(output.contains("| student (scratch) |"), output)
    }

    func testSIGKILLOfOneRankThenResumeGivesTheSameWeights() throws {
        try check(ranks: 2, interrupt: { _, ranks in kill(ranks[ranks.count - 1], SIGKILL) }, pending: nil, expectStatus: { $0 != 0 })
    }

    func testSIGTERMToMpirunThenResumeGivesTheSameWeights() throws {
        try check(ranks: 2, interrupt: { job, _ in kill(job.pid, SIGTERM) }, pending: SIGTERM, expectStatus: { $0 != 0 })
    }

    /// mpirun forwards SIGUSR1 to every rank at once (what scripts/distill.sbatch sends ahead of a
    /// time limit), so the job ends with the ranks' own status.
    func testSIGUSR1ToMpirunStopsTheRanksWhichExit75ThenResumeGivesTheSameWeights() throws {
        try check(ranks: 2, interrupt: { job, _ in kill(job.pid, SIGUSR1) }, pending: SIGUSR1, expectStatus: { $0 == 75 })
    }

    /// Slurm signals every process of a job and mpirun passes a signal on: a rank may get two at
    /// once, and the second must not cut its save short.
    func testTwoSignalsAtOnceStillSave() throws {
        try check(ranks: 1, interrupt: { job, _ in
            kill(job.pid, SIGTERM)
            usleep(5_000)
            kill(job.pid, SIGUSR1)
        }, pending: SIGUSR1, expectStatus: { $0 == 75 })
    }

    func testSIGTERMToOneProcessSavesAndExitsWithItsCode() throws {
        try check(ranks: 1, interrupt: { job, _ in kill(job.pid, SIGTERM) }, pending: SIGTERM, expectStatus: { $0 == 75 })
    }
}
