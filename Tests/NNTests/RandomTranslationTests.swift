import Foundation
import NN
import XCTest

/// Keras's `RandomTranslation` against Keras 3.15's own `transform_images` on fixed translations
/// (Tests/Fixtures/keras-augmentation/random-translation.json, scripts/make-augmentation-fixtures.py)
/// for every fill mode and interpolation; inference passes through; backward is the forward's
/// transpose; the draws are keyed on seed, epoch, layer and sample and stay in the factor's range;
/// Keras's JSON loads, and malformed factors are refused.
final class RandomTranslationTests: XCTestCase {
    struct Case: Decodable { let fill_mode: String, interpolation: String, output: [Float] }
    struct Fixture: Decodable { let shape: [Int], translations: [[Float]], images: [Float], cases: [Case], model: JSONValue }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-augmentation/random-translation.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// Keras (TensorFlow's ImageProjectiveTransformV3) computes in float32 as here; the bilinear sums may
    /// round in another order where its compiler fuses a multiply-add, so values agree within 1e-6
    /// (pixels here are 0.001 to 3.0); nearest reads agree exactly.
    func testEveryFillModeAndInterpolationMatchesKeras() throws {
        let f = Self.fixture
        let (batch, height, width, channels) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
        let size = height * width * channels
        XCTAssertEqual(f.cases.count, 8)
        for item in f.cases {
            let layer = RandomTranslation(height: (-0.5, 0.5), width: (-0.5, 0.5), fillMode: try XCTUnwrap(.init(rawValue: item.fill_mode)),
                                          interpolation: try XCTUnwrap(.init(rawValue: item.interpolation)), fillValue: 0.5)
            _ = try layer.build(inputShape: [height, width, channels])
            var output = [Float](repeating: -1, count: f.images.count)
            f.images.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    for row in 0..<batch {
                        layer.translate(input.baseAddress! + row * size, to: out.baseAddress! + row * size,
                                        dy: f.translations[row][1], dx: f.translations[row][0])
                    }
                }
            }
            let worst = zip(output, item.output).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, item.interpolation == "nearest" ? 0 : 1e-6, "\(item.fill_mode) \(item.interpolation)")
            XCTAssertNotEqual(output, f.images)
        }
        // The four fill modes give four different images: each case tests its own mode.
        XCTAssertEqual(Set(f.cases.filter { $0.interpolation == "bilinear" }.map(\.output)).count, 4)
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
