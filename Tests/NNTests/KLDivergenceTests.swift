import NN
import XCTest

final class KLDivergenceTests: XCTestCase {
    private let divergence = KLDivergence()

    /// Library softmaxes (at `temperature`) fed to the library KL; returns the sum and gradient.
    private func evaluate(teacher: LogitRows, student: LogitRows, temperature: Float, scale: Float = 1)
        -> (sum: Double, gradient: [Float])
    {
        let rows = teacher.count, classes = teacher.classes
        let t = FloatBuffer(count: rows * classes), s = FloatBuffer(count: rows * classes)
        softmax(teacher.flat, temperature: temperature, into: t.pointer, rows: rows, classes: classes)
        softmax(student.flat, temperature: temperature, into: s.pointer, rows: rows, classes: classes)
        let gradient = FloatBuffer(count: rows * classes)
        let sum = divergence(teacherProbabilities: t.pointer, studentProbabilities: s.pointer, temperature: temperature,
                             rows: rows, classes: classes, gradient: gradient.pointer, scale: scale)
        return (sum, gradient.array)
    }

    private func referenceSum(teacher: LogitRows, student: LogitRows, temperature: Double, clip: Bool = true) -> Double {
        zip(teacher.double, student.double).map {
            Reference.kl(teacherLogits: $0, studentLogits: $1, temperature: temperature, clip: clip)
        }.reduce(0, +)
    }

    private func referenceGradient(teacher: LogitRows, student: LogitRows, temperature: Double, scale: Double) -> [Double] {
        zip(teacher.double, student.double).flatMap { t, z in
            Reference.gradient(at: z) { Reference.kl(teacherLogits: t, studentLogits: $0, temperature: temperature) }
                .map { $0 * scale }
        }
    }

    func testValueMatchesDoubleReference() {
        var rng = SeededGenerator(seed: 110)
        let teacher = LogitRows(rows: 4, classes: 6, range: 5, rng: &rng)
        let student = LogitRows(rows: 4, classes: 6, range: 3, rng: &rng)
        for temperature: Float in [1, 3, 10] {
            let expected = referenceSum(teacher: teacher, student: student, temperature: Double(temperature))
            XCTAssertGreaterThan(expected, 1e-3)
            XCTAssertEqual(evaluate(teacher: teacher, student: student, temperature: temperature).sum,
                           expected, accuracy: 1e-5 * expected, "T = \(temperature)")
        }
    }

    func testIdenticalDistributionsGiveZero() {
        let logits = LogitRows([[1, -2, 0.5, 3]])
        let (sum, gradient) = evaluate(teacher: logits, student: logits, temperature: 2)
        XCTAssertEqual(sum, 0, accuracy: 1e-6)
        assertClose(gradient, [0, 0, 0, 0], relative: 0, absolute: 1e-6, "gradient at the minimum")
    }

    func testStudentClipIsActiveInTheValue() {
        // Student class 1 has probability e^-40 ~ 4e-18 < 1e-7 where the teacher has mass 1/3:
        // clipped, that term is (1/3) log((1/3) / 1e-7) ~ 5.0; unclipped it would be ~ 13.0.
        let teacher = LogitRows([[0, 0, 0], [2, -1, 0.5]])
        let student = LogitRows([[0, -40, 0], [1, -30, 0]])
        let clipped = referenceSum(teacher: teacher, student: student, temperature: 1)
        let unclipped = referenceSum(teacher: teacher, student: student, temperature: 1, clip: false)
        XCTAssertGreaterThan(unclipped - clipped, 1, "the case must exercise the clip")
        XCTAssertEqual(evaluate(teacher: teacher, student: student, temperature: 1).sum, clipped, accuracy: 1e-5 * clipped)
    }

    func testTeacherClipKeepsZeroProbabilitiesFinite() {
        // A teacher probability of exactly 0 (a softmax that underflowed): unclipped, 0 * log(0 / s)
        // is NaN. Clipped to 1e-7 the term is 1e-7 * log(1e-7 / 0.5) = -1.53e-6 next to
        // 1 * log(1 / 0.5) = 0.693: an effect 10x above the float32 rounding of log 2 (~6e-8),
        // so a wrong epsilon (1e-8 gives -1.8e-7) fails too.
        let t: [Float] = [0, 1], s: [Float] = [0.5, 0.5]
        let value = divergence(teacherProbabilities: t, studentProbabilities: s, temperature: 1,
                               rows: 1, classes: 2, gradient: nil, scale: 1)
        let expected = Reference.kl(teacher: t.map(Double.init), student: s.map(Double.init))
        XCTAssertEqual(expected - log(2.0), 1e-7 * log(1e-7 / 0.5), accuracy: 1e-15)
        XCTAssertTrue(value.isFinite)
        XCTAssertEqual(value, expected, accuracy: 1.5e-7)
    }

    func testGradientAtTemperature1() {
        var rng = SeededGenerator(seed: 111)
        let teacher = LogitRows(rows: 3, classes: 5, range: 4, rng: &rng)
        let student = LogitRows(rows: 3, classes: 5, range: 3, rng: &rng)
        let (_, gradient) = evaluate(teacher: teacher, student: student, temperature: 1, scale: 0.5)
        assertClose(gradient, referenceGradient(teacher: teacher, student: student, temperature: 1, scale: 0.5),
                    relative: 1e-3, absolute: 1e-6, "KL gradient, T = 1")
    }

    func testGradientAtTemperature10() {
        var rng = SeededGenerator(seed: 112)
        let teacher = LogitRows(rows: 3, classes: 5, range: 20, rng: &rng)
        let student = LogitRows(rows: 3, classes: 5, range: 15, rng: &rng)
        let (_, gradient) = evaluate(teacher: teacher, student: student, temperature: 10)
        let expected = referenceGradient(teacher: teacher, student: student, temperature: 10, scale: 1)
        XCTAssertGreaterThan(expected.map(abs).max()!, 1e-2)
        assertClose(gradient, expected, relative: 1e-3, absolute: 1e-6, "KL gradient, T = 10")
    }

    func testGradientWithActiveClip() {
        // Student probabilities below 1e-7 (e^-20 at T = 1; e^-18 at T = 10) pass no gradient
        // through their own log term, but still move the other probabilities via the softmax.
        let teacher = LogitRows([[0, 1, 0.5, -1], [3, -2, 0, 1]])
        for (temperature, student) in [(Float(1), LogitRows([[0, -20, 1, 0.5], [2, 0.5, -22, 0]])),
                                       (Float(10), LogitRows([[0, -180, 10, 5], [20, 5, -170, 0]]))] {
            let (_, gradient) = evaluate(teacher: teacher, student: student, temperature: temperature)
            let expected = referenceGradient(teacher: teacher, student: student, temperature: Double(temperature), scale: 1)
            assertClose(gradient, expected, relative: 1e-3, absolute: 1e-6, "clipped KL gradient, T = \(temperature)")
            // The clip is active: the reference value differs from the unclipped one.
            let clipped = referenceSum(teacher: teacher, student: student, temperature: Double(temperature))
            let unclipped = referenceSum(teacher: teacher, student: student, temperature: Double(temperature), clip: false)
            XCTAssertGreaterThan(abs(unclipped - clipped), 1e-3)
        }
    }
}
