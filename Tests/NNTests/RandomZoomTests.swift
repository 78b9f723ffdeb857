import Foundation
import NN
import XCTest

/// Keras's `RandomZoom` against Keras 3.15's own `transform_images` on fixed zooms
/// (Tests/Fixtures/keras-augmentation/random-zoom.json, scripts/make-augmentation-fixtures.py) for
/// every fill mode and interpolation; inference passes through; backward is the forward's transpose;
/// the draws are keyed and in range, one zoom for both axes without a width factor; Keras's JSON loads.
final class RandomZoomTests: XCTestCase {
    static let fixture = AffineAugmentationFixture.load("random-zoom.json")

    func testEveryFillModeAndInterpolationMatchesKeras() throws {
        let f = Self.fixture
        try f.assertMatchesKeras { fill, interpolation, row, image, output in
            let layer = RandomZoom(height: (-0.5, 0.5), width: (-0.5, 0.5), fillMode: fill, interpolation: interpolation, fillValue: 0.5)
            _ = try layer.build(inputShape: Array(f.shape.dropFirst()))
            layer.zoom(image, to: output, zy: f.zooms![row][1], zx: f.zooms![row][0])
        }
    }

    func testTrainingDrawsInferenceAndBackward() throws {
        let layer = RandomZoom(height: (-0.3, 0.2), width: (0.1, 0.4), fillMode: .wrap)
        XCTAssertEqual(try layer.build(inputShape: [6, 5, 2]), [6, 5, 2])
        let (batch, size) = (32, 60)
        let x = (0..<(batch * size)).map { Float($0 % 97) / 10 - 4 }
        var y = [Float](repeating: 0, count: x.count)
        layer.begin(nil, layer: 1)
        layer.forward(input: x, output: &y, batch: batch)
        XCTAssertEqual(y, x, "inference passes through")
        layer.begin(TrainingPass(seed: 9, step: 0, epoch: 1, sampleIDs: Array(50..<82)[...]), layer: 1)
        layer.forward(input: x, output: &y, batch: batch)
        for row in 0..<batch {
            let (zy, zx) = layer.draws(seed: 9, epoch: 1, layer: 1, sample: 50 + row)
            XCTAssertTrue((0.7...1.2).contains(zy) && (1.1...1.4).contains(zx), "\(zy), \(zx)")
            var expected = [Float](repeating: 0, count: size)
            x.withUnsafeBufferPointer { layer.zoom($0.baseAddress! + row * size, to: &expected, zy: zy, zx: zx) }
            XCTAssertEqual(Array(y[(row * size)..<((row + 1) * size)]), expected, "row \(row) zoomed by its own draw")
        }
        XCTAssertNotEqual(layer.draws(seed: 9, epoch: 2, layer: 1, sample: 5).zy, layer.draws(seed: 9, epoch: 1, layer: 1, sample: 5).zy)
        let g = (0..<x.count).map { Float(($0 * 31) % 17) - 8 }
        var back = [Float](repeating: 0, count: x.count)
        layer.backward(outputGradient: g, inputGradient: &back, input: x, output: y, batch: batch)
        let forwardDot = zip(y, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let backwardDot = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(forwardDot, backwardDot, accuracy: 1e-4 * abs(forwardDot), "backward is the transpose")
        // Without a width factor the two axes share one draw.
        let square = RandomZoom(height: (-0.3, 0.3))
        _ = try square.build(inputShape: [6, 5, 2])
        let draw = square.draws(seed: 9, epoch: 1, layer: 1, sample: 3)
        XCTAssertEqual(draw.zy, draw.zx)
    }

    func testKerasJSONLoadsAndMalformedFactorsAreRefused() throws {
        let json = Self.fixture.model.text
        let model = try ModelDescription(json: Array(json.utf8), source: "random-zoom.json").build(gemm: testGEMM)
        let layer = try XCTUnwrap(model.layers.compactMap { $0 as? RandomZoom }.first)
        XCTAssertEqual([layer.heightRange.lower, layer.heightRange.upper], [-0.2, 0.3])
        XCTAssertNil(layer.widthRange, "width_factor null: the height's zoom for both axes")
        for bad in ["-1", "[0.1, 2]", "[0.1]"] {
            let edited = json.replacingOccurrences(of: "\"height_factor\": [-0.2, 0.3]", with: "\"height_factor\": \(bad)")
            XCTAssertNotEqual(edited, json)
            XCTAssertThrowsError(try ModelDescription(json: Array(edited.utf8), source: "t.json").build(gemm: testGEMM)) {
                XCTAssertTrue("\($0)".contains("option height_factor is \(bad); expected a number in (-1, 1]"), "\($0)")
            }
        }
    }
}
