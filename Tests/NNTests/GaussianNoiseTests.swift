import Foundation
import NN
import XCTest

/// GaussianNoise and GaussianDropout: the noise's mean and standard deviation against Keras's definitions
/// (N(0, stddev^2) added; N(1, rate / (1 - rate)) multiplied), identity in inference, draws keyed on the global
/// sample (not the row), a finite-difference check in training (the noise is fixed for one pass), and Keras's options.
final class GaussianNoiseTests: XCTestCase {
    private func pass(step: Int = 3, ids: [Int]) -> TrainingPass { TrainingPass(seed: 42, step: step, sampleIDs: ids[...]) }

    /// The noise on ones (`y - 1` added, `y` multiplied) of 200 samples x 100 values: its mean and standard deviation.
    private func moments(_ layer: GaussianNoise) throws -> (mean: Double, deviation: Double, inference: [Float]) {
        let count = 200 * 100
        let h = try LayerHarness(layer, inputShape: [100], batch: 200, input: Array(repeating: 1, count: count), seed: 90)
        layer.begin(pass(ids: Array(0..<200)), layer: 1)
        _ = h.loss()
        let noise = h.output.array.map { Double($0) - (layer.mode == .additive ? 1 : 0) }
        let mean = noise.reduce(0, +) / Double(count)
        let deviation = (noise.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(count - 1)).squareRoot()
        layer.begin(nil, layer: 1)
        _ = h.loss()
        return (mean, deviation, h.output.array)
    }

    func testNoiseHasKerasMeanAndDeviation() throws {
        // 20000 draws: the mean's standard error is deviation / 141, the deviation's about deviation / 200.
        let additive = try moments(GaussianNoise(.additive, deviation: 0.5))
        XCTAssertEqual(additive.mean, 0, accuracy: 4 * 0.5 / 141)
        XCTAssertEqual(additive.deviation, 0.5, accuracy: 4 * 0.5 / 200)
        let rate = 0.2, deviation = (rate / (1 - rate)).squareRoot()
        let layer = try XCTUnwrap(try KerasModel.build([KerasModel.layer("GaussianDropout", "g", #""rate": 0.2, "seed": 3"#)]).layers.last as? GaussianNoise)
        XCTAssertEqual(layer.mode, .multiplicative)
        XCTAssertEqual(Double(layer.deviation), deviation, accuracy: 1e-7)
        let multiplicative = try moments(GaussianNoise(.multiplicative, deviation: Float(deviation)))
        XCTAssertEqual(multiplicative.mean, 1, accuracy: 4 * deviation / 141)
        XCTAssertEqual(multiplicative.deviation, deviation, accuracy: 4 * deviation / 200)
        XCTAssertEqual(additive.inference, Array(repeating: 1, count: 20000), "inference passes through")
        XCTAssertEqual(multiplicative.inference, Array(repeating: 1, count: 20000))
    }

    /// Box-Muller's tails: the share of draws beyond 1, 2 and 3 deviations is the normal's (31.7%, 4.6%, 0.27%).
    func testDrawsAreNormal() throws {
        let h = try LayerHarness(GaussianNoise(.additive, deviation: 1), inputShape: [1000], batch: 100,
                                 input: Array(repeating: 0, count: 100_000), seed: 91)
        (h.layer as! GaussianNoise).begin(pass(ids: Array(0..<100)), layer: 0)
        _ = h.loss()
        let values = h.output.array
        for (k, share) in [(1.0, 0.3173), (2.0, 0.0455), (3.0, 0.0027)] {
            let beyond = Double(values.filter { abs(Double($0)) > k }.count) / 1e5
            XCTAssertEqual(beyond, share, accuracy: 4 * (share * (1 - share) / 1e5).squareRoot() + 1e-4, "beyond \(k)")
        }
    }

    func testDrawsAreKeyedOnTheGlobalSample() throws {
        let layer = GaussianNoise(.additive, deviation: 1)
        let h = try LayerHarness(layer, inputShape: [32], batch: 2, input: Array(repeating: 0, count: 64), seed: 92)
        func rows(_ pass: TrainingPass) -> [[Float]] {
            layer.begin(pass, layer: 1)
            _ = h.loss()
            return [Array(h.output.array[..<32]), Array(h.output.array[32...])]
        }
        let first = rows(pass(ids: [5, 9]))
        XCTAssertEqual(rows(pass(ids: [9, 5]))[0], first[1])
        XCTAssertNotEqual(first[0], first[1])
        XCTAssertNotEqual(rows(pass(step: 4, ids: [5, 9]))[0], first[0], "steps differ")
    }

    func testGradientsInTrainingMode() throws {
        for (k, layer) in [GaussianNoise(.additive, deviation: 0.3), GaussianNoise(.multiplicative, deviation: 0.5)].enumerated() {
            let h = try LayerHarness(layer, inputShape: [3, 3, 2], batch: 3, seed: 93 + UInt64(k))
            layer.begin(pass(ids: [7, 1, 12]), layer: 2)
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, layer.kind)
        }
    }

    func testKerasOptions() throws {
        let layer = try XCTUnwrap(try KerasModel.build([KerasModel.layer("GaussianNoise", "g", #""stddev": 0.1, "seed": null"#)]).layers.last as? GaussianNoise)
        XCTAssertEqual([layer.mode.rawValue, layer.kind], ["gaussian_noise", "gaussian_noise"])
        XCTAssertEqual(layer.deviation, 0.1)
        assertModelError([KerasModel.layer("GaussianNoise", "g")], saying: "'g' (GaussianNoise)", "option stddev is missing")
        assertModelError([KerasModel.layer("GaussianNoise", "g", #""stddev": -1"#)], saying: "'g' (GaussianNoise)", "option stddev is -1")
        assertModelError([KerasModel.layer("GaussianDropout", "g", #""rate": 1"#)], saying: "'g' (GaussianDropout)", "option rate is 1.0")
        assertModelError([KerasModel.layer("GaussianDropout", "g")], saying: "'g' (GaussianDropout)", "option rate is missing")
    }
}
