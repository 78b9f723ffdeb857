import NN
import XCTest

final class DistillationLossTests: XCTestCase {
    private struct Case {
        let student: LogitRows, teacher: LogitRows, labels: [Int32]
        init(seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            student = LogitRows(rows: 3, classes: 5, range: 3, rng: &rng)
            teacher = LogitRows(rows: 3, classes: 5, range: 8, rng: &rng)
            labels = [1, 4, 0]
        }
    }

    private func evaluate(_ c: Case, alpha: Float, temperature: Float, scale: Float) -> (DistillationLoss.Sums, [Float]) {
        let loss = DistillationLoss(alpha: alpha, temperature: temperature)
        loss.reserve(rows: c.student.count, classes: c.student.classes)
        let gradient = FloatBuffer(count: c.student.flat.count)
        let sums = loss(studentLogits: c.student.flat, teacherLogits: c.teacher.flat, labels: c.labels,
                        rows: c.student.count, classes: c.student.classes, gradient: gradient.pointer, scale: scale)
        return (sums, gradient.array)
    }

    private func check(alpha: Float, temperature: Float, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let c = Case(seed: seed)
        let scale: Float = 1 / 3
        let (sums, gradient) = evaluate(c, alpha: alpha, temperature: temperature, scale: scale)
        let a = Double(alpha), t = Double(temperature)
        let rows = zip(zip(c.student.double, c.teacher.double), c.labels).map { pair, label in
            Reference.distillation(student: pair.0, teacher: pair.1, label: Int(label), alpha: a, temperature: t)
        }
        let student = rows.map(\.student).reduce(0, +), distillation = rows.map(\.distillation).reduce(0, +)
        XCTAssertEqual(sums.student, student, accuracy: 1e-5 * student, file: file, line: line)
        XCTAssertEqual(sums.distillation, distillation, accuracy: 1e-5 * distillation, file: file, line: line)
        XCTAssertEqual(sums.total, a * student + (1 - a) * distillation, accuracy: 1e-5 * sums.total, file: file, line: line)

        let expected = zip(zip(c.student.double, c.teacher.double), c.labels).flatMap { pair, label in
            Reference.gradient(at: pair.0) {
                Reference.distillation(student: $0, teacher: pair.1, label: Int(label), alpha: a, temperature: t).total
            }.map { $0 * Double(scale) }
        }
        assertClose(gradient, expected, relative: 1e-3, absolute: 1e-6,
                    "distillation gradient, alpha \(alpha), T \(temperature)", file: file, line: line)
    }

    func testKerasDefaultsAlpha01Temperature10() { check(alpha: 0.1, temperature: 10, seed: 120) }

    func testAlpha05Temperature3() { check(alpha: 0.5, temperature: 3, seed: 121) }

    func testAlphaOneIsExactlyCrossEntropy() {
        let c = Case(seed: 122)
        let scale: Float = 0.25
        let (sums, gradient) = evaluate(c, alpha: 1, temperature: 10, scale: scale)
        var expected = [Float](repeating: 0, count: gradient.count)
        let flat = c.student.flat
        let ce = expected.withUnsafeMutableBufferPointer {
            SparseCategoricalCrossentropy()(logits: flat, labels: c.labels, rows: 3, classes: 5,
                                            gradient: $0.baseAddress!, scale: scale)
        }
        XCTAssertEqual(gradient, expected)
        XCTAssertEqual(sums.total, ce)
        XCTAssertEqual(sums.student, ce)
    }

    func testWithoutGradientGivesTheSameSums() {
        let c = Case(seed: 123)
        let (withGradient, _) = evaluate(c, alpha: 0.1, temperature: 10, scale: 1)
        let loss = DistillationLoss(alpha: 0.1, temperature: 10)
        loss.reserve(rows: 3, classes: 5)
        let sums = loss(studentLogits: c.student.flat, teacherLogits: c.teacher.flat, labels: c.labels,
                        rows: 3, classes: 5, gradient: nil, scale: 1)
        XCTAssertEqual(sums, withGradient)
    }
}
