import NN
import XCTest

/// Keras's `HeNormal` and `HeUniform` kernel initializers (NASNet's convolutions use HeNormal): read from a
/// model description in both spellings, and the drawn kernels' distribution against Keras's definition (fanIn =
/// kh * kw * in): HeNormal a normal truncated at two of its deviations `sqrt(2 / fanIn) / 0.8796...`, whose
/// values then have the standard deviation `sqrt(2 / fanIn)`; HeUniform uniform in `+-sqrt(6 / fanIn)`.
final class HeInitializerTests: XCTestCase {
    func testHeNormalIsATruncatedNormalOfKerasDeviation() throws {
        for spelling in [#"{"class_name": "HeNormal", "config": {"seed": null}}"#, #""he_normal""#] {
            let (values, _, model) = try drawnKernel(spelling)
            XCTAssertEqual(model.parameters.entries.map(\.initializer), [.heNormal, .zeros], spelling)
            let target = (2.0 / 576).squareRoot(), cut = 2 * target / 0.87962566103423978
            let (mean, deviation) = moments(values)
            XCTAssertEqual(values.count, 73_728)
            XCTAssertLessThan(abs(mean), 4 * target / Double(values.count).squareRoot())
            XCTAssertEqual(deviation, target, accuracy: 0.01 * target)
            XCTAssertLessThanOrEqual(Double(values.map { abs($0) }.max()!), cut * (1 + 1e-6), "truncated at two deviations")
            // A normal truncated at 2 keeps 68.27 / 95.45 = 71.5% of its mass within one deviation.
            let inside = Double(values.filter { Double(abs($0)) <= cut / 2 }.count) / Double(values.count)
            XCTAssertEqual(inside, 0.6827 / 0.9545, accuracy: 0.01)
        }
    }

    func testHeUniformIsUniformInKerasLimit() throws {
        for spelling in [#"{"class_name": "HeUniform", "config": {"seed": null}}"#, #""he_uniform""#] {
            let (values, _, model) = try drawnKernel(spelling)
            XCTAssertEqual(model.parameters.entries.map(\.initializer), [.heUniform, .zeros], spelling)
            let limit = (6.0 / 576).squareRoot()
            XCTAssertLessThanOrEqual(Double(values.map { abs($0) }.max()!), limit)
            XCTAssertGreaterThan(Double(values.map { abs($0) }.max()!), 0.99 * limit)
            XCTAssertEqual(moments(values).deviation, limit / 3.0.squareRoot(), accuracy: 0.01 * limit)
        }
    }

    func testAnotherSeedDrawsOtherValuesAndTheSameSeedTheSame() throws {
        let first = try drawnKernel(#""he_normal""#).values, again = try drawnKernel(#""he_normal""#).values
        XCTAssertEqual(first, again)
        let model = try drawnKernel(#""he_normal""#).model
        var rng = SeededGenerator(seed: 6)
        model.parameters.initialize(using: &rng)
        XCTAssertNotEqual(Array(UnsafeBufferPointer(start: model.parameters.values.pointer, count: 100)), Array(first.prefix(100)))
    }

    func testOtherInitializersAreStillNamedInTheError() {
        assertModelError([KerasModel.layer("Conv2D", "c", #""filters": 2, "kernel_size": [3, 3], "kernel_initializer": "orthogonal""#)],
                         input: "[null, 5, 5, 1]", saying: "'c' (Conv2D)", "kernel_initializer", "HeNormal, HeUniform")
    }
}
