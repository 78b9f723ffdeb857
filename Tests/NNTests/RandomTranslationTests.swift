import Foundation
import NN
import XCTest

/// Keras's `RandomTranslation` against Keras 3.15's own `transform_images` on fixed translations
/// (Tests/Fixtures/keras-augmentation/random-translation.json, scripts/make-augmentation-fixtures.py)
/// for every fill mode and interpolation; inference passes through; backward is the forward's
/// transpose; the draws are keyed on seed, epoch, layer and sample and stay in the factor's range;
/// Keras's JSON loads, and malformed factors are refused.
final class RandomTranslationTests: XCTestCase {
    static let fixture = AffineAugmentationFixture.load("random-translation.json")

    func testEveryFillModeAndInterpolationMatchesKeras() throws {
        let f = Self.fixture
        try f.assertMatchesKeras { fill, interpolation, row, image, output in
            let layer = RandomTranslation(height: (-0.5, 0.5), width: (-0.5, 0.5), fillMode: fill, interpolation: interpolation, fillValue: 0.5)
            _ = try layer.build(inputShape: Array(f.shape.dropFirst()))
            layer.translate(image, to: output, dy: f.translations![row][1], dx: f.translations![row][0])
        }
    }

    func testTrainingDrawsInferenceAndBackward() throws {
        let layer = RandomTranslation(height: (-0.2, 0.3), width: (-0.1, 0.1), fillMode: .reflect)
        XCTAssertEqual(try layer.build(inputShape: [6, 5, 2]), [6, 5, 2])
        let (batch, size) = (32, 60)
        let x = (0..<(batch * size)).map { Float($0 % 97) / 10 - 4 }
        var y = [Float](repeating: 0, count: x.count)
        layer.begin(nil, layer: 2)
        layer.forward(input: x, output: &y, batch: batch)
        XCTAssertEqual(y, x, "inference passes through")
        layer.begin(TrainingPass(seed: 7, step: 0, epoch: 2, sampleIDs: Array(100..<132)[...]), layer: 2)
        layer.forward(input: x, output: &y, batch: batch)
        for row in 0..<batch {
            let (dy, dx) = layer.draws(seed: 7, epoch: 2, layer: 2, sample: 100 + row)
            XCTAssertTrue((-0.2 * 6...0.3 * 6).contains(dy) && (-0.1 * 5...0.1 * 5).contains(dx), "\(dy), \(dx)")
            var expected = [Float](repeating: 0, count: size)
            x.withUnsafeBufferPointer { layer.translate($0.baseAddress! + row * size, to: &expected, dy: dy, dx: dx) }
            XCTAssertEqual(Array(y[(row * size)..<((row + 1) * size)]), expected, "row \(row) moved by its own draw")
        }
        let shifts = (0..<batch).map { layer.draws(seed: 7, epoch: 2, layer: 2, sample: $0).dy }
        XCTAssertGreaterThan(Set(shifts).count, batch / 2, "samples draw apart")
        XCTAssertNotEqual(layer.draws(seed: 7, epoch: 3, layer: 2, sample: 5).dy, layer.draws(seed: 7, epoch: 2, layer: 2, sample: 5).dy)
        XCTAssertNotEqual(layer.draws(seed: 7, epoch: 2, layer: 4, sample: 5).dx, layer.draws(seed: 7, epoch: 2, layer: 2, sample: 5).dx)
        // Backward is the transpose: <forward(x), g> = <x, backward(g)> (a linear map, so this is its exact gradient).
        let g = (0..<x.count).map { Float(($0 * 31) % 17) - 8 }
        var back = [Float](repeating: 0, count: x.count)
        layer.backward(outputGradient: g, inputGradient: &back, input: x, output: y, batch: batch)
        let forwardDot = zip(y, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let backwardDot = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(forwardDot, backwardDot, accuracy: 1e-4 * abs(forwardDot))
        XCTAssertGreaterThan(abs(forwardDot - zip(x, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }), 1, "the images moved")
    }

    /// Constant fill: an outside neighbour reads fill_value and carries no gradient; the transpose still holds.
    func testConstantFillBackwardIsTheTranspose() throws {
        let layer = RandomTranslation(height: (-0.5, 0.5), width: (-0.5, 0.5), fillMode: .constant, fillValue: 0.5)
        _ = try layer.build(inputShape: [4, 4, 1])
        let x = (0..<(8 * 16)).map { Float($0 % 13) - 6 }, g = (0..<(8 * 16)).map { Float(($0 * 7) % 11) - 5 }
        var (y, back) = ([Float](repeating: 0, count: x.count), [Float](repeating: 0, count: x.count))
        let zero = [Float](repeating: 0, count: x.count)
        var zeroOut = [Float](repeating: 0, count: x.count)
        layer.begin(TrainingPass(seed: 3, step: 0, epoch: 1, sampleIDs: Array(0..<8)[...]), layer: 0)
        layer.forward(input: x, output: &y, batch: 8)
        layer.forward(input: zero, output: &zeroOut, batch: 8)   // the fill's share: the affine part
        layer.backward(outputGradient: g, inputGradient: &back, input: x, output: y, batch: 8)
        let linear = zip(zip(y, zeroOut), g).reduce(0.0) { $0 + Double($1.0.0 - $1.0.1) * Double($1.1) }
        XCTAssertEqual(linear, zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, accuracy: 1e-4 * abs(linear))
        XCTAssertTrue(zeroOut.contains { $0 > 0 }, "some pixels read the fill")
    }

    func testKerasJSONLoadsAndMalformedFactorsAreRefused() throws {
        let json = Self.fixture.model.text
        let model = try ModelDescription(json: Array(json.utf8), source: "random-translation.json").build(gemm: testGEMM)
        let layer = try XCTUnwrap(model.layers.compactMap { $0 as? RandomTranslation }.first)
        XCTAssertEqual([layer.heightRange.lower, layer.heightRange.upper, layer.widthRange.lower, layer.widthRange.upper], [-0.1, 0.1, -0.2, 0.3])
        XCTAssertEqual(layer.fillMode, .constant)
        XCTAssertEqual(layer.fillValue, 0.5)
        for (bad, message) in [("1.5", "option height_factor is 1.5"), ("[0.1]", "option height_factor is [0.1]"),
                               ("\"up\"", "option height_factor is \"up\"")] {
            let edited = json.replacingOccurrences(of: "\"height_factor\": 0.1", with: "\"height_factor\": \(bad)")
            XCTAssertNotEqual(edited, json)
            XCTAssertThrowsError(try ModelDescription(json: Array(edited.utf8), source: "t.json").build(gemm: testGEMM)) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
        let mode = json.replacingOccurrences(of: "\"fill_mode\": \"constant\"", with: "\"fill_mode\": \"mirror\"")
        XCTAssertThrowsError(try ModelDescription(json: Array(mode.utf8), source: "t.json").build(gemm: testGEMM)) {
            XCTAssertTrue("\($0)".contains("fill_mode"), "\($0)")
        }
    }
}
