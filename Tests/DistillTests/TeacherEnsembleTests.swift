import Collective
@testable import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// Several teachers: their logits combined as the weighted mean (or the weighted mean of their
/// probabilities at T, as logits), a student distilled from them trained bit for bit as from one
/// file holding that mean, and the refusals.
final class TeacherEnsembleTests: FaultTestCase {
    private func table(_ values: [Float], classes: Int) -> CachedTeacherLogits {
        let buffer = FloatBuffer(count: values.count)
        buffer.pointer.update(from: values, count: values.count)
        return CachedTeacherLogits(table: buffer, classes: classes)
    }

    func testLogitsCombineAsTheWeightedMean() {
        let (a, b): ([Float], [Float]) = ([1, -2, 0.5, 3, 0, -1], [4, 2, -0.5, -3, 1, 5])
        let combined = LogitCombination.logits.combine([table(a, classes: 3), table(b, classes: 3)], weights: [1, 3]).table.array
        for i in a.indices { XCTAssertEqual(combined[i], (a[i] + 3 * b[i]) / 4, accuracy: 1e-6) }
        let equal = LogitCombination.logits.combine([table(a, classes: 3), table(b, classes: 3)], weights: [2, 2]).table.array
        for i in a.indices { XCTAssertEqual(equal[i], (a[i] + b[i]) / 2, accuracy: 1e-6) }
    }

    /// `T log(sum_k w_k softmax(z_k / T))` softened at T is the weighted mean of the members' probabilities.
    func testProbabilitiesCombineAsTheirWeightedMeanAtT() {
        let (a, b): ([Float], [Float]) = ([1, -2, 0.5, 3, 0, -1], [4, 2, -0.5, -3, 1, 5])
        func softmax(_ z: ArraySlice<Float>, _ t: Double) -> [Double] {
            let e = z.map { exp(Double($0) / t) }
            return e.map { $0 / e.reduce(0, +) }
        }
        for t in [1.0, 4.0] {
            let combined = LogitCombination.probabilities(temperature: t).combine([table(a, classes: 3), table(b, classes: 3)], weights: [1, 3])
                .table.array
            for row in 0..<2 {
                let range = row * 3..<row * 3 + 3
                let expected = zip(softmax(a[range], t), softmax(b[range], t)).map { ($0 + 3 * $1) / 4 }
                for (p, e) in zip(softmax(combined[range], t), expected) { XCTAssertEqual(p, e, accuracy: 1e-6) }
            }
            XCTAssertNotEqual(combined, LogitCombination.logits.combine([table(a, classes: 3), table(b, classes: 3)], weights: [1, 3]).table.array)
        }
    }

    /// Two logits files with weights 1 and 3 teach the student exactly what one file of their weighted
    /// mean teaches: the same weights bit for bit.
    func testAStudentOfTwoTeachersLearnsTheirWeightedMean() throws {
        let (first, second, mean) = (path("a.safetensors"), path("b.safetensors"), path("mean.safetensors"))
        let count = 300
        var rng = SeededGenerator(seed: 3)
        let a = (0..<count * 10).map { _ in Float(Double(rng.next() >> 11) / Double(1 << 53) * 8 - 4) }
        let b = (0..<count * 10).map { _ in Float(Double(rng.next() >> 11) / Double(1 << 53) * 8 - 4) }
        try SafeTensors.write([NamedTensor(name: "logits", shape: [count, 10], values: a)], metadata: [:], to: first)
        try SafeTensors.write([NamedTensor(name: "logits", shape: [count, 10], values: b)], metadata: [:], to: second)
        let combined = LogitCombination.logits.combine([table(a, classes: 10), table(b, classes: 10)], weights: [1, 3]).table.array
        try SafeTensors.write([NamedTensor(name: "logits", shape: [count, 10], values: combined)], metadata: [:], to: mean)

        let two = try distill(["distill-student", "--teacher-logits", first, "--teacher-logits", second, "--teacher-weights", "1,3",
                               "--student-epochs", "1", "--output", path("two.safetensors")] + quick)
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertTrue(two.output.contains("teacher: 2 teachers, mean of logits: logits from \(first), 300 x 10 x 0.25; logits from \(second)"),
                      two.output)
        let one = try distill(["distill-student", "--teacher-logits", mean, "--student-epochs", "1", "--output", path("one.safetensors")] + quick)
        XCTAssertEqual(one.status, 0, one.output)
        let weights = { (file: String) in try SafeTensors.read(from: self.path(file)).tensors.map(\.values) }
        XCTAssertEqual(try weights("two.safetensors"), try weights("one.safetensors"))
        // Equal weights teach something else: the test above could fail.
        XCTAssertEqual(try distill(["distill-student", "--teacher-logits", first, "--teacher-logits", second, "--student-epochs", "1",
                                    "--output", path("equal.safetensors")] + quick).status, 0)
        XCTAssertNotEqual(try weights("equal.safetensors"), try weights("one.safetensors"))
    }

    func testRefusals() throws {
        let (first, narrow) = (path("a.safetensors"), path("narrow.safetensors"))
        try SafeTensors.write([NamedTensor(name: "logits", shape: [300, 10], values: Array(repeating: 0.5, count: 3000))], metadata: [:], to: first)
        try SafeTensors.write([NamedTensor(name: "logits", shape: [300, 9], values: Array(repeating: 0.5, count: 2700))], metadata: [:], to: narrow)
        let student = ["distill-student", "--output", path("s.safetensors")] + quick
        assertFails(try distill(student + ["--teacher-logits", first, "--teacher-logits", first, "--teacher-weights", "1,2,3"]),
                    saying: "--teacher-weights must be 2 positive numbers, one per teacher, comma-separated; got '1,2,3'")
        assertFails(try distill(student + ["--teacher-logits", first, "--teacher-logits", first, "--teacher-weights", "1,-1"]),
                    saying: "--teacher-weights must be 2 positive numbers")
        assertFails(try distill(student + ["--teacher-logits", first, "--teacher-weights", "1"]),
                    saying: "--teacher-weights needs several teachers")
        assertFails(try distill(student + ["--teacher-logits", first, "--teacher-logits", narrow]), saying: "\(narrow): holds 9 logits per sample, but the student has 10 classes")
        assertFails(try distill(student + ["--teacher-logits", first, "--teacher-logits", first, "--augment", "flip"]),
                    saying: "several teachers are combined from their logits")
        assertFails(try distill(student + ["--teacher-logits", first, "--teacher-logits", first, "--ensemble", "probabilities",
                                           "--loss", "kd:standardize"]),
                    saying: "--ensemble probabilities: --loss kd:standardize z-scores each teacher's logits")
    }
    /// The teacher's logits of another set (the sweep's test set): one model's forward, or every member's combined
    /// as the training logits were; none where a member is a logits file.
    func testLogitsOfAnotherSetCombineTheMembersAlike() throws {
        let data = Fixture.trainPrefix(40)
        var rng = SeededGenerator(seed: 11)
        let models = try (0..<2).map { _ in
            let model = try Sequential(inputShape: [28, 28, 1], layers: [Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
            model.parameters.initialize(using: &rng)
            return model
        }
        let alone = models.map { CachedTeacherLogits.compute(teacher: $0, data: data, communicator: SingleProcess()) }
        var loaded = LoadedTeacher(train: data, test: data, logits: nil, model: models[0], description: nil, summary: "", ensemble: nil)
        XCTAssertEqual(loaded.logits(of: data, communicator: SingleProcess())?.table.array, alone[0].table.array)
        loaded.model = nil
        XCTAssertNil(loaded.logits(of: data, communicator: SingleProcess()))
        let combination = LogitCombination.probabilities(temperature: 4)
        loaded.ensemble = ([models[0], models[1]], [1, 3], combination)
        XCTAssertEqual(loaded.logits(of: data, communicator: SingleProcess())?.table.array, combination.combine(alone, weights: [1, 3]).table.array)
        loaded.ensemble = ([models[0], nil], [1, 3], combination)
        XCTAssertNil(loaded.logits(of: data, communicator: SingleProcess()), "a logits file has no test logits")
    }
}
