import Collective
import Datasets
import Distill
import NN
import XCTest

final class DistillerTests: XCTestCase {
    let single = SingleProcess()

    private func model(_ role: ModelRole, seed: UInt64, _ architecture: Architecture = .keras) throws -> Sequential {
        let model = try architecture.model(role, gemm: Fixture.gemm)
        var rng = SeededGenerator(seed: seed)
        model.parameters.initialize(using: &rng)
        return model
    }

    func testDistillationStepChangesTheStudentAndNeverTheTeacher() throws {
        let teacher = try model(.teacher, seed: 1), student = try model(.student, seed: 2)
        let teacherBefore = teacher.parameters.values.array, studentBefore = student.parameters.values.array
        let distiller = Distiller(student: student, teacher: teacher, communicator: single)
        try distiller.compile(optimizer: Adam(), alpha: 0.1, temperature: 10)
        // One step of the real training loop: 8 samples in one batch.
        let history = try distiller.fit(Fixture.trainPrefix(8), epochs: 1, batchSize: 8, seed: 1)
        XCTAssertEqual(history.times.steps, 1)
        let (studentLoss, distillationLoss, accuracy) = (history.epochs[0][0], history.epochs[0][1], history.epochs[0][2])
        XCTAssertEqual(teacher.parameters.values.array, teacherBefore, "the teacher must stay frozen")
        XCTAssertEqual(teacher.parameters.gradients.array.filter { $0 != 0 }.count, 0, "no gradient may reach the teacher")
        XCTAssertNotEqual(student.parameters.values.array, studentBefore, "the student must learn")
        XCTAssertTrue(studentLoss.isFinite && distillationLoss > 0 && (0...1).contains(accuracy))
    }

    func testAlphaOneIsPlainStudentTraining() throws {
        let data = Fixture.trainPrefix(200)
        let distilled = try model(.student, seed: 3), plain = try model(.student, seed: 3)
        let distiller = Distiller(student: distilled, teacher: try model(.teacher, seed: 4), communicator: single)
        try distiller.compile(optimizer: Adam(), alpha: 1, temperature: 10)
        let distilledHistory = try distiller.fit(data, epochs: 2, batchSize: 32, seed: 5)
        let plainHistory = try Classifier(model: plain, optimizer: Adam(), communicator: single)
            .fit(data, epochs: 2, batchSize: 32, seed: 5)
        // alpha * g + 0 * kl == g exactly, so the two runs take bit-identical steps.
        XCTAssertEqual(distilled.parameters.values.array, plain.parameters.values.array)
        XCTAssertEqual(distilledHistory.last("student_loss"), plainHistory.last("loss"))
        XCTAssertEqual(distilledHistory.last("accuracy"), plainHistory.last("accuracy"))
    }

    /// A second `compile` brings a new loss with empty workspaces; training on must size them
    /// (a missed reserve traps).
    func testCompileAfterFitTrainsWithTheNewLoss() throws {
        let data = Fixture.trainPrefix(96)
        let teacher = try model(.teacher, seed: 6, .hidden), student = try model(.student, seed: 7, .hidden)
        let distiller = Distiller(student: student, teacher: teacher, communicator: single)
        try distiller.compile(optimizer: Adam(), alpha: 0.1, temperature: 10)
        _ = try distiller.fit(data, epochs: 1, batchSize: 32, seed: 8)
        try distiller.compile(optimizer: Adam(), alpha: 1, temperature: 10)
        let history = try distiller.fit(data, epochs: 1, batchSize: 32, seed: 9)
        let studentLoss = try XCTUnwrap(history.last("student_loss"))
        XCTAssertTrue(studentLoss.isFinite && studentLoss > 0, "student loss \(studentLoss)")
    }

    func testCachedLogitsTrainExactlyLikeRunningTheTeacher() throws {
        let data = Fixture.trainPrefix(150)
        let teacher = try model(.teacher, seed: 6, .hidden)
        let cached = CachedTeacherLogits.compute(teacher: teacher, data: data, communicator: single)
        XCTAssertEqual(cached.count, 150)
        var students: [Sequential] = []
        for source in [cached, RunningTeacher(teacher)] as [TeacherLogitsSource] {
            let student = try model(.student, seed: 7, .hidden)
            let distiller = Distiller(student: student, teacherLogits: source, communicator: single)
            try distiller.compile(optimizer: Adam(), alpha: 0.1, temperature: 10)
            _ = try distiller.fit(data, epochs: 1, batchSize: 32, seed: 8)
            students.append(student)
        }
        // The cache holds the same forward pass at another batch size, so logits can differ in the
        // last bits (BLAS blocking); a wrong row lookup would differ by whole units.
        let difference = zip(students[0].parameters.values.array, students[1].parameters.values.array).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(difference, 1e-4)
    }

    func testCompileRejectsBadAlphaAndTemperature() throws {
        let distiller = Distiller(student: try model(.student, seed: 1), teacher: try model(.student, seed: 2), communicator: single)
        XCTAssertThrowsError(try distiller.compile(optimizer: Adam(), alpha: 1.5, temperature: 10)) {
            XCTAssertTrue("\($0)".contains("alpha"), "\($0)")
        }
        XCTAssertThrowsError(try distiller.compile(optimizer: Adam(), alpha: 0.1, temperature: 0)) {
            XCTAssertTrue("\($0)".contains("temperature"), "\($0)")
        }
    }

    func testNaNLossStopsTrainingWithAClearMessage() throws {
        let student = try model(.student, seed: 1)
        student.parameters.values.pointer[0] = .nan
        let classifier = Classifier(model: student, optimizer: Adam(), communicator: single)
        XCTAssertThrowsError(try classifier.fit(Fixture.trainPrefix(64), epochs: 1, batchSize: 32, seed: 1)) {
            XCTAssertTrue("\($0)".contains("became nan at epoch 1, step 1"), "\($0)")
        }
    }

    func testLogitRowsOfASubsetKeepTheirOriginalIDs() {
        let table = FloatBuffer(count: 12)
        for i in 0..<12 { table.pointer[i] = Float(i) }
        let rows = CachedTeacherLogits(table: table, classes: 3).restricted(to: [3, 0])
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows.table.array, [9, 10, 11, 0, 1, 2])
    }

    func testCheckpointRoundTripAndMismatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("distill-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let student = try model(.student, seed: 9, .hidden)
        let path = directory.appendingPathComponent("student.safetensors").path
        try Checkpoint.save(student, role: .student, to: path)
        let loaded = try Checkpoint.load(from: path, gemm: Fixture.gemm)
        XCTAssertEqual(loaded.description.json, Architecture.hidden.description(.student).json)
        XCTAssertEqual(loaded.model.layerNames, student.layerNames)
        XCTAssertEqual(loaded.role, .student)
        XCTAssertEqual(loaded.model.parameters.values.array, student.parameters.values.array)
        XCTAssertThrowsError(try Checkpoint.load(from: path, expecting: .teacher, gemm: Fixture.gemm)) {
            XCTAssertTrue("\($0)".contains(path) && "\($0)".contains("expected a teacher"), "\($0)")
        }
        // A file written before checkpoints carried their model names its preset; it still loads.
        try SafeTensors.write(student.parameters.namedTensors(), metadata: ["format": Checkpoint.format, "architecture": "hidden", "role": "student"],
                              to: path)
        XCTAssertEqual(try Checkpoint.load(from: path, gemm: Fixture.gemm).model.parameters.values.array, student.parameters.values.array)
        // A keras-preset student's tensors do not fit the hidden preset.
        var tensors = try model(.student, seed: 1, .keras).parameters.namedTensors()
        try SafeTensors.write(tensors, metadata: ["format": Checkpoint.format, "architecture": "hidden", "role": "student"], to: path)
        XCTAssertThrowsError(try Checkpoint.load(from: path, gemm: Fixture.gemm)) { XCTAssertTrue("\($0)".contains(path), "\($0)") }
        tensors = student.parameters.namedTensors()
        try SafeTensors.write(tensors, metadata: [:], to: path)
        XCTAssertThrowsError(try Checkpoint.load(from: path, gemm: Fixture.gemm)) { XCTAssertTrue("\($0)".contains("format"), "\($0)") }
    }
}
