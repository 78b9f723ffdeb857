import NN
import XCTest

/// SpatialDropout2D: whole feature maps kept (scaled by 1 / (1 - rate)) or dropped per sample and channel, at the
/// rate asked, masks keyed on the global sample (not the row), identity in inference, a finite-difference check in
/// training, and Keras's options and the one-line errors.
final class SpatialDropout2DTests: XCTestCase {
    private func pass(ids: [Int]) -> TrainingPass { TrainingPass(seed: 42, step: 3, sampleIDs: ids[...]) }

    func testWholeMapsAreKeptOrDroppedAtTheRate() throws {
        let (batch, shape) = (100, [3, 4, 8])
        let layer = SpatialDropout(rate: 0.3)
        let h = try LayerHarness(layer, inputShape: shape, batch: batch, input: Array(repeating: 1, count: 96 * batch), seed: 80)
        layer.begin(pass(ids: Array(0..<batch)), layer: 1)
        _ = h.loss()
        let values = h.output.array
        var dropped = 0
        for n in 0..<batch {
            for c in 0..<8 {
                let map = (0..<12).map { values[n * 96 + $0 * 8 + c] }
                XCTAssertEqual(Set(map).count, 1, "sample \(n), channel \(c): one keep per map")
                XCTAssertTrue(map[0] == 0 || abs(map[0] - 1 / 0.7) < 1e-6)
                if map[0] == 0 { dropped += 1 }
            }
        }
        XCTAssertEqual(Double(dropped) / 800, 0.3, accuracy: 0.05, "800 draws: 0.3 +- 0.016 (1 sigma)")
        layer.begin(nil, layer: 1)
        _ = h.loss()
        XCTAssertEqual(h.output.array, Array(repeating: 1, count: 96 * batch), "inference passes through")
    }

    func testMasksAreKeyedOnTheGlobalSample() throws {
        let layer = SpatialDropout(rate: 0.5)
        let h = try LayerHarness(layer, inputShape: [2, 2, 16], batch: 2, input: Array(repeating: 1, count: 128), seed: 81)
        func rows(_ ids: [Int]) -> [[Float]] {
            layer.begin(pass(ids: ids), layer: 1)
            _ = h.loss()
            return [Array(h.output.array[..<64]), Array(h.output.array[64...])]
        }
        let first = rows([5, 9])
        XCTAssertEqual(rows([9, 5])[0], first[1])
        XCTAssertNotEqual(first[0], first[1])
    }

    func testGradientInTrainingMode() throws {
        let layer = SpatialDropout(rate: 0.4)
        let h = try LayerHarness(layer, inputShape: [3, 3, 4], batch: 3, seed: 82)
        layer.begin(pass(ids: [7, 1, 12]), layer: 2)
        GradientChecker().checkLayer(h, "spatial dropout 0.4, training")
        _ = h.loss()
        XCTAssertTrue(h.output.array.contains(0) && h.output.array.contains { $0 != 0 }, "some maps dropped, some kept")
    }

    func testKerasLayerAndErrors() throws {
        let model = try KerasModel.build([KerasModel.layer("SpatialDropout2D", "s", #""rate": 0.2, "seed": 7, "data_format": "channels_last""#)])
        XCTAssertEqual(model.layers.last?.kind, "spatial_dropout2d")
        XCTAssertEqual(model.outputShapes.last, [8, 8, 1])
        assertModelError([KerasModel.layer("SpatialDropout2D", "s")], saying: "'s' (SpatialDropout2D)", "option rate is missing")
        assertModelError([KerasModel.layer("SpatialDropout2D", "s", #""rate": 1"#)], saying: "'s' (SpatialDropout2D)", "option rate is 1.0")
        assertModelError([KerasModel.layer("SpatialDropout2D", "s", #""rate": 0.2, "data_format": "channels_first""#)],
                         saying: "'s' (SpatialDropout2D)", "data_format")
        assertModelError([KerasModel.layer("Flatten", "f"), KerasModel.layer("SpatialDropout2D", "s", #""rate": 0.2"#)],
                         saying: "layer 's'", "SpatialDropout2D takes images", "[64]")
    }
}
