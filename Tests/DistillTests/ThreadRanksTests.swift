import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// `--ranks 2` runs two data-parallel ranks as threads of one process: the same models as
/// `mpirun -np 2`, bit for bit, for a residual teacher with BatchNormalization and a depthwise
/// student; a state it saved resumes under mpirun; and a failing rank ends the process with one line.
final class ThreadRanksTests: FaultTestCase {
    private let graphs = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-graph").path

    /// 577 samples in global batches of 64: the last batch has one sample, so rank 1's slice is empty.
    private func recipe(_ saveDirectory: String) -> [String] {
        ["run", "--data-dir", fixture, "--train-limit", "577", "--test-limit", "100", "--batch-size", "64", "--plain", "--threads", "1",
         "--teacher-epochs", "1", "--student-epochs", "1", "--teacher-model", "\(graphs)/residual.json",
         "--student-model", "\(graphs)/mobilenet-like.json", "--save-directory", saveDirectory]
    }

    private func assertSameBits(_ first: String, _ second: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let (expected, actual) = (try SafeTensors.read(from: first).tensors, try SafeTensors.read(from: second).tensors)
        XCTAssertEqual(expected.map(\.name), actual.map(\.name), file: file, line: line)
        XCTAssertFalse(expected.isEmpty, file: file, line: line)
        for (a, b) in zip(expected, actual) {
            XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern), "\(second): \(a.name) differs", file: file, line: line)
        }
    }

    /// The three lines of test figures, e.g. "teacher test accuracy 10.00%, loss 2.3026".
    private func testFigures(_ output: String) -> [String] {
        output.split(separator: "\n").filter { $0.contains(" test accuracy ") && !$0.hasPrefix("|") }.map(String.init)
    }

    func testTwoThreadRanksTrainTheModelsOfTwoMPIRanksBitForBit() throws {
        let mpi = try ProcessRun.run(try Requirement.mpirun(), ProcessRun.mpirunFlags(ranks: 2) + [try binary.path] + recipe(path("mpi")),
                                     timeout: 300)
        XCTAssertEqual(mpi.status, 0, mpi.output)
        let threads = try distill(recipe(path("threads")) + ["--ranks", "2"], timeout: 300)
        XCTAssertEqual(threads.status, 0, threads.output)
        XCTAssertTrue(threads.output.contains("layout: 2 ranks (threads) x 1 thread"), threads.output)
        XCTAssertEqual(testFigures(threads.output).count, 3, threads.output)
        XCTAssertEqual(testFigures(threads.output), testFigures(mpi.output))
        for model in ["teacher", "student-distilled", "student-scratch"] {
            try assertSameBits(path("mpi/\(model).safetensors"), path("threads/\(model).safetensors"))
        }
    }

    /// A job of thread ranks stopped by SIGTERM once a state is saved (every rank stops at one step, the
    /// process exits 75) resumes under mpirun -np 2 to the model of an uninterrupted mpirun run: the two
    /// transports are one job layout. The process is stopped when the first state (step 4 of 76) is seen
    /// and signalled while stopped, so the signal lands mid-run however slow the machine.
    func testAStateSavedByThreadRanksResumesUnderMPIBitForBit() throws {
        func arguments(_ states: String, _ output: String) throws -> [String] {
            ["train-teacher", "--data-dir", fixture, "--train-limit", "600", "--test-limit", "100", "--threads", "1", "--plain",
             "--teacher-epochs", "4", "--checkpoint-dir", states, "--checkpoint-every", "4", "--output", output]
        }
        let mpirun = try Requirement.mpirun()
        let whole = try ProcessRun.run(mpirun, ProcessRun.mpirunFlags(ranks: 2) + [try binary.path] + (try arguments(path("whole"), path("reference.safetensors"))),
                                       timeout: 300)
        XCTAssertEqual(whole.status, 0, whole.output)

        let states = path("states"), resumed = path("resumed.safetensors")
        let job = try BackgroundProcess(try binary, try arguments(states, resumed) + ["--ranks", "2"])
        // Stopped (all its threads) when the state is seen and signalled while stopped: the run cannot end first.
        XCTAssertTrue(job.stop(timeout: 300) {
            ((try? FileManager.default.contentsOfDirectory(atPath: states)) ?? []).contains { $0.hasPrefix("state-teacher-") }
        }, job.output)
        kill(job.pid, SIGTERM)
        kill(job.pid, SIGCONT)
        XCTAssertEqual(job.exitStatus(within: 120), 75, job.output)
        XCTAssertTrue(job.output.contains("its state is saved: run the same command with --resume"), job.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed), "the run was not interrupted: \(job.output)")

        let again = try ProcessRun.run(mpirun, ProcessRun.mpirunFlags(ranks: 2) + [try binary.path] + (try arguments(states, resumed)) + ["--resume"],
                                       timeout: 300)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("resuming teacher from"), again.output)
        try assertSameBits(path("reference.safetensors"), resumed)
    }

    /// An error on the ranks' threads ends the process with one line, said once; a bad --ranks and
    /// --ranks under mpirun stop before any rank starts.
    func testFailuresEndTheProcessWithOneLine() throws {
        let missing = try distill(["train-teacher", "--teacher-model", path("absent.json"), "--ranks", "3", "--output", path("t.safetensors")] + quick)
        assertFails(missing, saying: "absent.json")
        XCTAssertEqual(missing.output.components(separatedBy: "error:").count, 2, "one error line: \(missing.output)")
        XCTAssertEqual(missing.status, 1, missing.output)

        assertFails(try distill(["train-teacher", "--ranks", "0"] + quick), saying: "--ranks must be in 1...1024, got 0")

        let mpirun = try Requirement.mpirun()
        let nested = try ProcessRun.run(mpirun, ProcessRun.mpirunFlags(ranks: 2) + [try binary.path, "train-teacher", "--ranks", "2"] + quick,
                                        timeout: 120)
        assertFails(nested, saying: "--ranks 2 runs the ranks as threads of this one process, but a launcher started it")
    }
}
