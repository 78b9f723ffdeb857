import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// `--hint` end to end: a functional residual teacher hints a MobileNet-like student through a 1x1 Conv2D and a
/// Dense regressor; the hint loss falls, the saved student has no regressor, and hints that cannot work fail
/// with one line before any training.
final class HintCommandTests: FaultTestCase {
    private var graph: String { ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-graph").path }

    private func teacher() throws -> String {
        let teacher = path("teacher.safetensors")
        let run = try distill(["train-teacher", "--teacher-model", "\(graph)/residual.json", "--teacher-epochs", "1", "--output", teacher] + quick)
        XCTAssertEqual(run.status, 0, run.output)
        return teacher
    }

    func testAHintedStudentLearnsItsHintsAndIsSavedWithoutItsRegressors() throws {
        let teacher = try teacher()
        for (name, stages) in [("joint", [String]()), ("fitnets", ["--hint-epochs", "1"])] {
            let output = path("\(name).safetensors"), metrics = path("\(name).json")
            let run = try distill(["distill-student", "--teacher", teacher, "--student-model", "\(graph)/mobilenet-like.json", "--student-epochs", "3",
                                   "--hint", "block2_out:block1_add", "--hint", "pool:pool:0.5", "--output", output, "--metrics-json", metrics]
                                  + stages + quick)
            XCTAssertEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains("hints: block2_out:block1_add (conv2d, 544 parameters), pool:pool:0.5 (dense, 2080 parameters)"), run.output)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metrics))) as? [String: Any])
            let names = try XCTUnwrap(json["metrics"] as? [String]), epochs = try XCTUnwrap(json["epochs"] as? [[Double]])
            let hint = try XCTUnwrap(names.firstIndex(of: "hint_loss"))
            XCTAssertEqual(epochs.count, 3)
            XCTAssertLessThan(epochs[2][hint], 0.8 * epochs[0][hint], "\(name): the hint loss falls: \(epochs.map { $0[hint] })")
            let saved = try Checkpoint.load(from: output, expecting: .student, gemm: OpenBLASGEMM())
            XCTAssertEqual(saved.model.parameterCount, try ModelDescription(contentsOfFile: "\(graph)/mobilenet-like.json").plan().parameterCount)
            XCTAssertFalse(try SafeTensors.read(from: output).tensors.contains { $0.name.hasPrefix("hint_regressor") })
        }
    }

    func testHintsThatCannotWorkFailWithOneLineBeforeTraining() throws {
        let teacher = try teacher()
        let student = ["--student-model", "\(graph)/mobilenet-like.json", "--output", path("s.safetensors")] + quick
        func fails(_ arguments: [String], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            assertFails(try distill(["distill-student", "--teacher", teacher] + arguments + student), saying: expected, file: file, line: line)
        }
        try fails(["--hint", "block9_out:block1_add"], "error: --hint 'block9_out:block1_add': the teacher has no layer 'block9_out'; its layers: stem_conv,")
        try fails(["--hint", "block2_out:block9_add"], "error: --hint 'block2_out:block9_add': the student has no layer 'block9_add'; its layers: stem_pad,")
        try fails(["--hint", "block1_out:block1_add"], "error: --hint 'block1_out:block1_add': the teacher's 'block1_out' gives 28x28x16 and the "
            + "student's 'block1_add' 14x14x16: their spatial sizes differ")
        try fails(["--hint", "block2_out"], "Error: --hint 'block2_out': has 1 part(s) separated by ':'")
        try fails(["--hint", "pool:pool", "--hint-epochs", "3"], "error: --hint-epochs 3 leaves no epoch of distillation: it must be less than --student-epochs 3")
        try fails(["--hint-epochs", "1"], "error: --hint-epochs 1 needs at least one --hint")
        // Logits alone have no layers to hint from.
        let logits = path("logits.npy")
        try Data(RoundTwoFaultTests.npy(NamedTensor(name: "logits", shape: [300, 10], values: (0..<3000).map { Float($0 % 7) }))).write(to: URL(fileURLWithPath: logits))
        assertFails(try distill(["distill-student", "--teacher-logits", logits, "--hint", "pool:pool"] + student),
                    saying: "error: --hint needs the teacher's model, run forward to its layer on every batch: give --teacher FILE")
        // run checks the names against the teacher's model file before the teacher trains.
        assertFails(try distill(["run", "--teacher-model", "\(graph)/residual.json", "--student-model", "\(graph)/mobilenet-like.json",
                                 "--hint", "block2_out:nope"] + quick), saying: "error: --hint 'block2_out:nope': the student has no layer 'nope'")
    }
}
