import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// train-teacher and distill-student resume as run does: two ranks, one killed with SIGKILL
/// mid-epoch once a state is saved, then --resume, end with bit for bit the model of an
/// uninterrupted run.
final class CommandResumeTests: FaultTestCase {
    /// 600 samples in batches of 32: 19 steps an epoch, a state every 4 steps.
    private func arguments(_ command: [String], checkpoints: String, output: String) throws -> [String] {
        [try binary.path] + command + ["--data-dir", fixture, "--train-limit", "600", "--test-limit", "100", "--threads", "1", "--plain",
                                       "--checkpoint-dir", checkpoints, "--checkpoint-every", "4", "--output", output]
    }

    private func twoRanks(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(try Requirement.mpirun(), ProcessRun.mpirunFlags(ranks: 2) + arguments)
    }

    /// `after`: the interruption waits for a state past this step of the phase (0: the first state).
    private func check(_ command: [String], phase: String, after: Int = 0) throws {
        let reference = path("reference.safetensors"), resumed = path("resumed.safetensors")
        let whole = try twoRanks(try arguments(command, checkpoints: path("whole"), output: reference))
        XCTAssertEqual(whole.exitStatus(within: 300), 0, whole.output)

        let states = path("states")
        let launched = Date()
        let job = try twoRanks(try arguments(command, checkpoints: states, output: resumed))
        // The ranks run in slices and are stopped when the state is seen: a run of a second or less
        // cannot reach its end between the check and the kill, however busy the machine.
        let ranks = job.stopChildren(named: "distill", count: 2, timeout: 300) {
            ((try? FileManager.default.contentsOfDirectory(atPath: states)) ?? []).contains {
                $0.hasPrefix("state-\(phase)-") && Int($0.dropFirst("state-\(phase)-".count).prefix(12)).map { $0 > after } == true
            }
        }
        XCTAssertNotNil(ranks, job.output)
        if let ranks, let rank = ranks.last {
            kill(rank, SIGKILL)
            for other in ranks.dropLast() { kill(other, SIGCONT) }
        }
        XCTAssertNotEqual(job.exitStatus(within: max(60, 6 * Date().timeIntervalSince(launched))), 0, job.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed), "the run was not interrupted: \(job.output)")

        let again = try twoRanks(try arguments(command, checkpoints: states, output: resumed) + ["--resume"])
        XCTAssertEqual(again.exitStatus(within: 300), 0, again.output)
        XCTAssertTrue(again.output.contains("resuming \(phase) from"), again.output)
        let (expected, actual) = (try SafeTensors.read(from: reference).tensors, try SafeTensors.read(from: resumed).tensors)
        XCTAssertEqual(expected.map(\.name), actual.map(\.name))
        XCTAssertTrue(zip(expected, actual).allSatisfy { $0.values.map(\.bitPattern) == $1.values.map(\.bitPattern) },
                      "the resumed model differs from the uninterrupted one")
        XCTAssertTrue(TrainingState.files(in: states, phase: phase).isEmpty, "a finished command removes its states")
    }

    func testTrainTeacherResumesBitForBit() throws {
        try check(["train-teacher", "--teacher-epochs", "2"], phase: "teacher")
    }

    func testDistillStudentResumesBitForBit() throws {
        let teacher = path("teacher.safetensors")
        let run = try distill(["train-teacher", "--teacher-epochs", "1", "--output", teacher] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        try check(["distill-student", "--teacher", teacher, "--student-epochs", "3"], phase: "student-distilled")
    }

    /// SGD's momentum slot, a schedule's position (a pure function of the step count) and the
    /// augmented views (keyed on the epoch and the sample) resume too: Nesterov momentum with weight
    /// decay over a warm-up and cosine decay on jittered, flipped images, crossing epochs.
    func testSGDWithScheduleAndAugmentationResumesBitForBit() throws {
        try check(["train-teacher", "--teacher-epochs", "2", "--optimizer", "sgd:momentum=0.9:nesterov:weight_decay=0.0005",
                   "--schedule", "cosine:warmup=0.5:alpha=0.1", "--learning-rate", "0.02", "--augment", "translate=2:flip"], phase: "teacher")
    }

    /// Best on validation resumes too: killed in the second epoch, after the first epoch's best
    /// weights and patience count went into the state (540 training samples: 17 steps an epoch).
    func testRestoreBestWithPatienceResumesBitForBit() throws {
        try check(["train-teacher", "--teacher-epochs", "3", "--validation-fraction", "0.1", "--restore-best", "--patience", "1",
                   "--optimizer", "sgd:momentum=0.9", "--learning-rate", "0.05"], phase: "teacher", after: 18)
    }

    /// A student distilled on augmented views (its teacher run on each) resumes bit for bit.
    func testAugmentedDistillationResumesBitForBit() throws {
        let teacher = path("teacher.safetensors")
        let run = try distill(["train-teacher", "--teacher-epochs", "1", "--output", teacher] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        try check(["distill-student", "--teacher", teacher, "--student-epochs", "2", "--augment", "pad-crop=3:flip",
                   "--optimizer", "sgd:momentum=0.9", "--schedule", "exponential:rate=0.5"], phase: "student-distilled")
    }

    /// Functional models resume too: the residual teacher (BatchNormalization's moving statistics,
    /// Dropout, Add) and, distilled from it, the MobileNet-like student (depthwise, separable).
    private var graph: String { ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-graph").path }

    func testGraphTeacherResumesBitForBit() throws {
        try check(["train-teacher", "--teacher-model", "\(graph)/residual.json", "--teacher-epochs", "2"], phase: "teacher")
    }

    func testGraphStudentResumesBitForBit() throws {
        let teacher = path("teacher.safetensors")
        let run = try distill(["train-teacher", "--teacher-model", "\(graph)/residual.json", "--teacher-epochs", "1", "--output", teacher] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        try check(["distill-student", "--teacher", teacher, "--student-model", "\(graph)/mobilenet-like.json", "--student-epochs", "2"],
                  phase: "student-distilled")
    }

    /// Feature hints resume too: the regressors (a 1x1 Conv2D and a Dense) and their Adam moments are in the
    /// state, and the run goes on across FitNets' stage boundary (hints alone in epoch 1, distillation after).
    func testHintedGraphStudentResumesBitForBit() throws {
        let teacher = path("teacher.safetensors")
        let run = try distill(["train-teacher", "--teacher-model", "\(graph)/residual.json", "--teacher-epochs", "1", "--output", teacher] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        try check(["distill-student", "--teacher", teacher, "--student-model", "\(graph)/mobilenet-like.json", "--student-epochs", "2",
                   "--hint", "block2_out:block1_add", "--hint", "pool:pool:0.5", "--hint-epochs", "1"], phase: "student-distilled")
    }
}
