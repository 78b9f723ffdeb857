import Distill
import Foundation
import TestSupport
import XCTest

/// scripts/hinton-mnist.sh, the reproduction of Hinton et al. (2015)'s MNIST result, runs its whole
/// command path on a few hundred images in seconds, so the recipe cannot rot; a rerun resumes (trains
/// nothing again); its table script computes what it claims; and `distill-student --twin-output`
/// trains a true twin.
final class HintonRecipeTests: FaultTestCase {
    private let root = ProcessRun.packageRoot.path

    private func recipe(_ output: String) throws -> ProcessRun {
        let run = try ProcessRun.run(URL(fileURLWithPath: "/bin/bash"), ["\(root)/scripts/hinton-mnist.sh", output], timeout: 300,
                                     extraEnvironment: ["DISTILL_BIN": try binary.path, "RANKS": "1", "TEACHER_EPOCHS": "2",
                                                        "STUDENT_EPOCHS": "2", "SEEDS": "1 2",
                                                        "FLAGS": "--data-dir \(fixture) --train-limit 400 --test-limit 200 --threads 1"])
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    func testSmallRecipeRunsEndToEndAndAResumeTrainsNothingAgain() throws {
        let output = path("hinton")
        let first = try recipe(output)
        XCTAssertEqual(first.status, 0, first.output)
        for phase in ["teacher - epoch 2/2", "student (distilled) - epoch 2/2", "student (scratch twin) - epoch 2/2"] {
            XCTAssertTrue(first.output.contains(phase), "\(phase) missing: \(first.output)")
        }
        let table = try String(contentsOfFile: "\(output)/table.md", encoding: .utf8)
        XCTAssertTrue(table.contains("Test errors on 200 MNIST test images"), table)
        XCTAssertEqual(table.components(separatedBy: "\n").filter { $0.hasPrefix("| 1 |") || $0.hasPrefix("| 2 |") }.count, 2, table)
        XCTAssertTrue(table.contains("paired t"), table)
        // Every model of the table: the teacher and two students per seed, each evaluated on 200 images.
        let rows = try String(contentsOfFile: "\(output)/accuracies.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 5, rows.joined(separator: "\n"))
        XCTAssertTrue(rows.allSatisfy { $0.contains("on 200 samples") }, rows.joined(separator: "\n"))

        let again = try recipe(output)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertFalse(again.output.contains(" - epoch "), "a finished recipe trained again: \(again.output)")
        XCTAssertEqual(try String(contentsOfFile: "\(output)/table.md", encoding: .utf8), table)
    }

    /// A seed stopped after its distilled student (the twin not yet trained) goes on with the twin:
    /// the finished student is loaded from the states directory, not trained again.
    func testAStoppedSeedGoesOnWithItsTwin() throws {
        let output = path("hinton")
        XCTAssertEqual(try recipe(output).status, 0)
        let seed = "\(output)/seed-2"
        try FileManager.default.removeItem(atPath: "\(seed)/scratch.safetensors")
        try FileManager.default.removeItem(atPath: "\(seed)/states/student-scratch-twin.safetensors")
        let again = try recipe(output)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("student (distilled): finished in an earlier run, loaded from \(seed)/states/"), again.output)
        XCTAssertFalse(again.output.contains("student (distilled) - epoch"), again.output)
        XCTAssertTrue(again.output.contains("student (scratch twin) - epoch 2/2"), again.output)
    }

    /// At alpha 1 the distillation loss is the cross-entropy alone, so a twin that shares the distilled
    /// student's initial weights, batch order and optimizer ends with the same weights, bit for bit; at
    /// alpha 0.1 the two differ.
    func testTwinOutputIsTheDistilledStudentsTwin() throws {
        let teacher = path("teacher.safetensors")
        XCTAssertEqual(try distill(["train-teacher", "--teacher-epochs", "1", "--output", teacher] + quick).status, 0)
        func pair(alpha: String) throws -> (distilled: [Float], twin: [Float]) {
            let (distilled, twin) = (path("distilled-\(alpha).safetensors"), path("twin-\(alpha).safetensors"))
            let run = try distill(["distill-student", "--teacher", teacher, "--student-epochs", "2", "--alpha", alpha,
                                   "--optimizer", "sgd:momentum=0.9", "--schedule", "cosine", "--validation-fraction", "0.1",
                                   "--restore-best", "--output", distilled, "--twin-output", twin] + quick)
            XCTAssertEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("| student (scratch twin) |"), run.output)
            let load = { (file: String) in try Checkpoint.load(from: file, gemm: Fixture.gemm).model.parameters.values.array }
            return (try load(distilled), try load(twin))
        }
        let same = try pair(alpha: "1")
        XCTAssertEqual(same.distilled, same.twin)
        let taught = try pair(alpha: "0.1")
        XCTAssertNotEqual(taught.distilled, taught.twin)
        XCTAssertEqual(taught.twin, same.twin, "the twin does not depend on the distillation settings")
    }

    func testTwinOutputMustDifferFromOutput() throws {
        let run = try distill(["distill-student", "--output", path("s.safetensors"), "--twin-output", path("s.safetensors")] + quick)
        assertFails(run, saying: "--twin-output must differ from --output")
    }

    /// The table's arithmetic on figures worked out by hand: errors from accuracies on 10,000 images,
    /// savings 10, 20 and 30 (mean 20, sd 10, paired t 20 / (10 / sqrt 3) = 3.46), and 20 of the 40
    /// errors between the scratch mean (120) and the teacher (80) closed.
    func testTableScript() throws {
        let tsv = path("accuracies.tsv")
        let line = { (accuracy: String) in "x: hinton (student model), 1 parameters, test accuracy \(accuracy)%, loss 0.0400 on 10000 samples" }
        try ["teacher\t-\t\(line("99.20"))",
             "scratch\t1\t\(line("98.80"))", "distilled\t1\t\(line("98.90"))",
             "scratch\t2\t\(line("98.70"))", "distilled\t2\t\(line("98.90"))",
             "scratch\t3\t\(line("98.90"))", "distilled\t3\t\(line("99.20"))"].joined(separator: "\n")
            .write(toFile: tsv, atomically: true, encoding: .utf8)
        let run = try ProcessRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "\(root)/scripts/hinton-table.py", tsv], timeout: 60)
        XCTAssertEqual(run.status, 0, run.output)
        for expected in ["| 1 | 120 | 110 | 10 |", "| 2 | 130 | 110 | 20 |", "| 3 | 110 | 80 | 30 |",
                         "| mean (sd) | 120.0 (10.0) | 100.0 (17.3) | 20.0 (10.0), paired t 3.46 |",
                         "| teacher (2 x 1200, dropout, max-norm, jitter) | 80 | 67 |",
                         "close 50% of the gap"] {
            XCTAssertTrue(run.output.contains(expected), "expected '\(expected)' in: \(run.output)")
        }
        try "teacher\t-\tno figures here\n".write(toFile: tsv, atomically: true, encoding: .utf8)
        let malformed = try ProcessRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "\(root)/scripts/hinton-table.py", tsv], timeout: 60)
        XCTAssertNotEqual(malformed.status, 0)
        XCTAssertTrue(malformed.output.contains("hinton-table: not an evaluate line: 'no figures here'"), malformed.output)
    }
}
