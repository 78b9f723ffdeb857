import Foundation
import NN
import TestSupport
import XCTest

/// Inputs that once trained garbage, trapped or hung now end in one clear line and a non-zero
/// exit, before any training: mismatched ranks (MPMD launches), damaged files, impossible paths.
final class NoSilentWrongAnswerTests: FaultTestCase {
    /// Every rank's command line is compared at start-up (but --threads and --plain), flag by flag.
    func testRanksWithDifferentSettingsStop() throws {
        let teacher = ["train-teacher", "--teacher-epochs", "1", "--output", path("t.safetensors")] + quick
        assertFails(try mpmd(teacher + ["--seed", "1"], teacher + ["--seed", "2"]), saying: "rank 0 has --seed 1, rank 1 has --seed 2")
        assertFails(try mpmd(teacher, teacher + ["--train-limit", "301"]), saying: "rank 1 has --train-limit 300 301")
        assertFails(try mpmd(teacher, teacher + ["--gemm", "openblas"]), saying: "rank 1 has --gemm openblas, rank 0 does not")
        // A sweep whose ranks hold other lists would hand out other runs: it stops before the first.
        let logits = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-roundtrip/mnist-small-teacher-logits.safetensors").path
        let sweep = ["sweep", "--data-dir", fixture, "--teacher-logits", logits, "--threads", "1", "--output", path("sweep"), "--seeds", "1"]
        assertFails(try mpmd(sweep + ["--alpha", "0.1"], sweep + ["--alpha", "0.2"]), saying: "rank 0 has --alpha 0.1, rank 1 has --alpha 0.2")
        assertFails(try mpmd(sweep, sweep + ["--validation-fraction", "0.2"]), saying: "rank 1 has --validation-fraction 0.2")
        // Per-rank flags that change nothing are allowed to differ.
        let run = try mpmd(teacher + ["--threads", "1"], teacher + ["--threads", "2"])
        XCTAssertEqual(run.status, 0, run.output)
    }

    /// The same command line in two working directories whose relative paths hold different files:
    /// the content hashes behind the command line still stop the job, naming the file.
    func testRanksWithDifferentFilesBehindTheSamePathsStop() throws {
        for (name, seed) in [("a", "1"), ("b", "2")] {
            let folder = path(name)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let run = try distill(["train-teacher", "--teacher-epochs", "1", "--seed", seed, "--output", "\(folder)/model.safetensors"] + quick)
            XCTAssertEqual(run.status, 0, run.output)
            try FileManager.default.createSymbolicLink(atPath: "\(folder)/data", withDestinationPath: fixture)
        }
        // Rank 1's data differ in one training label.
        let other = path("b/data")
        try FileManager.default.removeItem(atPath: other)
        try FileManager.default.copyItem(atPath: fixture, toPath: other)
        try flipFirstLabel(in: other)
        let mpirun = try Requirement.mpirun()
        let flags = ProcessRun.mpirunFlags(ranks: 1)
        func launch(_ arguments: [String]) throws -> ProcessRun {
            let run = try ProcessRun.run(mpirun, flags + ["-wdir", path("a"), try binary.path] + arguments + [":"] + flags.suffix(2)
                                         + ["-wdir", path("b"), try binary.path] + arguments, timeout: 120)
            XCTAssertFalse(run.timedOut, run.output)
            return run
        }
        assertFails(try launch(["evaluate", "--data-dir", "data", "--test-limit", "100", "--threads", "1", "--model", "model.safetensors"]),
                    saying: "the ranks disagree on the model file model.safetensors")
        assertFails(try launch(["train-teacher", "--teacher-epochs", "1", "--data-dir", "data", "--train-limit", "300", "--test-limit", "100",
                                "--plain", "--threads", "1", "--output", "t.safetensors"]),
                    saying: "the ranks disagree on the training data")
    }

    /// Adds 1 (mod 10) to the first training label of the IDX fixture in `directory` (unzipped first).
    private func flipFirstLabel(in directory: String) throws {
        let file = (directory as NSString).appendingPathComponent("train-labels-idx1-ubyte")
        let unzip = try ProcessRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["gunzip", file + ".gz"], timeout: 30)
        XCTAssertEqual(unzip.status, 0, unzip.output)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[8] = (bytes[8] + 1) % 10
        try FileManager.default.removeItem(atPath: file)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
    }

    func testNonFiniteWeightsAreRefusedNamingTheFile() throws {
        let model = path("nan.safetensors")
        var run = try distill(["train-teacher", "--teacher-epochs", "1", "--output", model] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        var (tensors, metadata) = try SafeTensors.read(from: model)
        var values = tensors[2].values
        values[7] = .nan
        tensors[2] = NamedTensor(name: tensors[2].name, shape: tensors[2].shape, values: values)
        metadata["checksum"] = nil   // signed anew: the NaN itself must be refused, not just the changed bytes
        try SafeTensors.writeChecksummed(tensors, metadata: metadata, to: model)
        run = try distill(["evaluate", "--model", model, "--data-dir", fixture, "--test-limit", "100"])
        assertFails(run, saying: "\(model): tensor '\(tensors[2].name)' holds nan at index 7")
    }

    func testADamagedLogitCacheIsRecomputedWithAMessage() throws {
        let teacher = path("teacher.safetensors"), student = path("student.safetensors")
        var run = try distill(["train-teacher", "--teacher-epochs", "1", "--output", teacher] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        run = try distill(["distill-student", "--teacher", teacher, "--student-epochs", "1", "--output", student] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        // Rotate the cached rows by one: same shape, same fingerprint, wrong contents.
        let cache = teacher + ".logits.safetensors"
        let (tensors, metadata) = try SafeTensors.read(from: cache)
        let rows = tensors[0].values, classes = tensors[0].shape[1]
        let rotated = Array(rows[classes...] + rows[..<classes])
        try SafeTensors.write([NamedTensor(name: "logits", shape: tensors[0].shape, values: rotated)], metadata: metadata, to: cache)
        run = try distill(["distill-student", "--teacher", teacher, "--student-epochs", "1", "--output", student] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("not used: its contents do not match their checksum"), run.output)
        XCTAssertTrue(run.output.contains("computed once"), run.output)
    }

    func testImpossibleOutputsFailBeforeTraining() throws {
        assertFails(try distill(["train-teacher", "--output", directory.path] + quick), saying: "is a directory")
        let long = path(String(repeating: "n", count: 240) + ".safetensors")
        assertFails(try distill(["train-teacher", "--output", long] + quick), saying: "too long for its temporary file")
    }

    func testAFIFOInPlaceOfADataFileIsAnErrorNotAHang() throws {
        let data = path("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            XCTAssertEqual(mkfifo((data as NSString).appendingPathComponent(name), 0o600), 0)
        }
        assertFails(try distill(["--data-dir", data, "--plain"], timeout: 30), saying: "is not a regular file (a FIFO)")
    }

    func testHugeNumbersAreRangeErrorsNotTraps() throws {
        assertFails(try distill(["--batch-size", "9223372036854775807"] + quick), saying: "--batch-size must be at most")
        assertFails(try distill(quick + ["--train-limit", "9223372036854775807"]), saying: "--train-limit must be a positive number")
        assertFails(try distill(["--collective-timeout=-1"] + quick), saying: "--collective-timeout must be")
    }

    func testSeveralSlurmTasksWithoutMPIStop() throws {
        let slurm = ["SLURM_STEP_NUM_TASKS": "2", "SLURM_NTASKS": "2", "SLURM_STEP_ID": "0", "SLURM_PROCID": "0"]
        assertFails(try distill(quick, environment: slurm), saying: "srun --mpi=pmix")
        // --single-process is the deliberate way to run each task alone.
        let run = try distill(["evaluate", "--single-process", "--model", "/nonexistent"] + ["--data-dir", fixture], environment: slurm)
        XCTAssertTrue(run.output.contains("/nonexistent"), run.output)
    }
}
