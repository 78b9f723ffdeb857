import Foundation
import NN
import XCTest

/// Keras's `RandomCrop` against Keras 3.15 (Tests/Fixtures/keras-augmentation/random-crop.json,
/// scripts/make-augmentation-fixtures.py): crops at given offsets (`transform_images`) and against an
/// independent slice; the training path without a draw (Keras's own layer) and inference
/// (`smart_resize`) for targets smaller, larger and mixed; every offset reachable by draws keyed on
/// the sample, the epoch and the layer; backward the transpose; Keras's JSON, its logits, malformed configs.
final class RandomCropTests: XCTestCase {
    struct Case: Decodable { let target: [Int], output: [Float] }
    struct Fixture: Decodable {
        let shape: [Int], images: [Float], offsets: [[Int]], crops: [Float], resizes: [Case], inference: [Case]
        let model: JSONValue, weights: [[Float]], pixels: [Float], logits: [Float]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-augmentation/random-crop.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// The fixture's images through `layer` (built for them) in training (`pass`) or inference.
    static func run(_ layer: RandomCrop, training: Bool) throws -> [Float] {
        let f = fixture
        let shape = try layer.build(inputShape: Array(f.shape.dropFirst()))
        layer.begin(training ? TrainingPass(seed: 1, step: 0, sampleIDs: Array(0..<f.shape[0])[...]) : nil, layer: 0)
        var output = [Float](repeating: -1, count: f.shape[0] * shape.reduce(1, *))
        layer.forward(input: f.images, output: &output, batch: f.shape[0])
        return output
    }

    /// `Float`s of `[B, H, W, C]` images as one sum `Σ a b` in Double.
    static func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }

    func testCropsAtGivenOffsetsAreKerasAndTheSlice() throws {
        let f = Self.fixture
        let (height, width, channels) = (f.shape[1], f.shape[2], f.shape[3])
        let layer = RandomCrop(height: 4, width: 5)
        XCTAssertEqual(try layer.build(inputShape: [height, width, channels]), [4, 5, channels])
        XCTAssertTrue(layer.cropsAtRandom)
        var output = [Float](repeating: -1, count: f.crops.count)
        let size = 4 * 5 * channels
        for (b, offset) in f.offsets.enumerated() {
            f.images.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    layer.crop(input.baseAddress! + b * height * width * channels, to: out.baseAddress! + b * size,
                               .init(top: offset[0], left: offset[1], rows: 4, columns: 5))
                }
            }
            var slice = [Float]()   // the independent construction: rows top..<top + 4, columns left..<left + 5
            for y in offset[0]..<(offset[0] + 4) {
                for x in offset[1]..<(offset[1] + 5) { for c in 0..<channels { slice.append(f.images[((b * height + y) * width + x) * channels + c]) } }
            }
            XCTAssertEqual(Array(output[(b * size)..<((b + 1) * size)]), slice, "image \(b) at \(offset)")
        }
        XCTAssertEqual(output, f.crops, "Keras's transform_images at the same offsets")
    }

    /// In training, a target the image does not exceed on both axes draws nothing: Keras 3.15's slice then resize.
    func testTrainingWithoutADrawIsKeras() throws {
        XCTAssertEqual(Self.fixture.resizes.map(\.target), [[6, 5], [8, 9], [4, 9], [9, 3], [10, 4], [6, 7]])
        for item in Self.fixture.resizes {
            let layer = RandomCrop(height: item.target[0], width: item.target[1])
            let output = try Self.run(layer, training: true)
            XCTAssertFalse(layer.cropsAtRandom)
            let worst = zip(output, item.output).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-6, "target \(item.target)")
        }
    }

    /// Inference: Keras's smart_resize (the centred window of the target's aspect ratio, resized).
    func testInferenceIsKerasSmartResize() throws {
        XCTAssertEqual(Self.fixture.inference.count, 8)
        for item in Self.fixture.inference {
            let layer = RandomCrop(height: item.target[0], width: item.target[1])
            let output = try Self.run(layer, training: false)
            let worst = zip(output, item.output).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-6, "target \(item.target)")
        }
        // Training and inference differ where Keras's do: 6 x 7 to 8 x 9 stretches the whole image in training.
        let layer = RandomCrop(height: 8, width: 9)
        _ = try layer.build(inputShape: [6, 7, 2])
        XCTAssertEqual(layer.fixedTrainingWindow, .init(top: 0, left: 0, rows: 6, columns: 7))
        XCTAssertEqual(layer.centredWindow, .init(top: 0, left: 0, rows: 6, columns: 6))
    }

    func testDrawsReachEveryOffsetAndAreKeyed() throws {
        let layer = RandomCrop(height: 4, width: 5)
        _ = try layer.build(inputShape: [6, 7, 2])
        var seen = Set<[Int]>()
        for id in 0..<300 {
            let w = layer.draws(seed: 5, epoch: 1, layer: 2, sample: id)
            XCTAssertTrue((0...2).contains(w.top) && (0...2).contains(w.left) && w.rows == 4 && w.columns == 5, "\(w)")
            seen.insert([w.top, w.left])
        }
        XCTAssertEqual(seen.count, 9, "every offset (0...2) x (0...2) reached")
        let draw = { (epoch: Int, index: Int, id: Int) in layer.draws(seed: 5, epoch: epoch, layer: index, sample: id) }
        XCTAssertGreaterThan(Set((0..<32).map { [draw(1, 2, $0).top, draw(1, 2, $0).left] }).count, 4, "samples draw apart")
        XCTAssertGreaterThan((0..<32).filter { draw(1, 2, $0) != draw(2, 2, $0) }.count, 16, "another epoch draws again")
        XCTAssertGreaterThan((0..<32).filter { draw(1, 2, $0) != draw(1, 3, $0) }.count, 16, "another layer draws apart")
        // The forward crops each row at its sample's draw, whatever rows the samples sit in (1 or N ranks).
        let (batch, inSize, outSize) = (8, 6 * 7 * 2, 4 * 5 * 2)
        let x = (0..<(batch * inSize)).map { Float($0 % 89) / 8 - 5 }
        var y = [Float](repeating: 0, count: batch * outSize)
        let ids = [40, 3, 17, 8, 99, 21, 64, 5]
        layer.begin(TrainingPass(seed: 5, step: 0, epoch: 1, sampleIDs: ids[...]), layer: 2)
        layer.forward(input: x, output: &y, batch: batch)
        for (row, id) in ids.enumerated() {
            var expected = [Float](repeating: 0, count: outSize)
            x.withUnsafeBufferPointer { layer.crop($0.baseAddress! + row * inSize, to: &expected, draw(1, 2, id)) }
            XCTAssertEqual(Array(y[(row * outSize)..<((row + 1) * outSize)]), expected, "row \(row), sample \(id)")
        }
    }

    /// Backward is the transpose, `<crop(x), g> = <x, backward(g)>`: for random crops (the gradient on the
    /// cropped pixels, none elsewhere), the training resizes and the inference window.
    func testBackwardIsTheTranspose() throws {
        let (batch, inSize) = (6, 6 * 7 * 2)
        let x = (0..<(batch * inSize)).map { Float(($0 * 13) % 29) / 4 - 3 }
        for (target, training) in [([4, 5], true), ([8, 9], true), ([4, 9], true), ([10, 4], true), ([3, 3], false), ([8, 9], false), ([4, 5], false)] {
            let layer = RandomCrop(height: target[0], width: target[1])
            let outSize = try layer.build(inputShape: [6, 7, 2]).reduce(1, *)
            layer.begin(training ? TrainingPass(seed: 11, step: 0, epoch: 3, sampleIDs: Array(20..<26)[...]) : nil, layer: 1)
            var y = [Float](repeating: 0, count: batch * outSize)
            layer.forward(input: x, output: &y, batch: batch)
            let g = (0..<y.count).map { Float(($0 * 31) % 17) - 8 }
            var back = [Float](repeating: 9, count: x.count)
            layer.backward(outputGradient: g, inputGradient: &back, input: x, output: y, batch: batch)
            let (forwardDot, backwardDot) = (Self.dot(y, g), Self.dot(x, back))
            XCTAssertEqual(forwardDot, backwardDot, accuracy: 1e-5 * abs(forwardDot), "\(target) training \(training)")
            XCTAssertEqual(back.reduce(0, +), g.reduce(0, +), accuracy: 1e-3, "each output's weights sum to 1")
            guard target == [4, 5], training else { continue }
            for row in 0..<batch {
                let w = layer.draws(seed: 11, epoch: 3, layer: 1, sample: 20 + row)
                var expected = [Float](repeating: 0, count: inSize)
                for r in 0..<4 { for k in 0..<5 { for c in 0..<2 { expected[((w.top + r) * 7 + w.left + k) * 2 + c] = g[row * outSize + (r * 5 + k) * 2 + c] } } }
                XCTAssertEqual(Array(back[(row * inSize)..<((row + 1) * inSize)]), expected, "row \(row): the gradient on the cropped pixels")
            }
        }
    }

    /// Keras's JSON (RandomCrop, Rescaling, Conv2D, Flatten, Dense) builds with the cropped shape, and with
    /// Keras's weights gives Keras's logits in training (a 6 x 7 image to 6 x 5: no draw): the Rescaling
    /// behind the crop still gets the raw pixels.
    func testKerasModelLoadsAndGivesKerasLogits() throws {
        let f = Self.fixture
        let model = try ModelDescription(json: Array(f.model.text.utf8), source: "random-crop.json").build(gemm: testGEMM)
        XCTAssertTrue(model.layers[0] is RandomCrop)
        XCTAssertEqual(model.outputShapes[0], [6, 5, 2])
        let entries = model.parameters.entries
        XCTAssertEqual(entries.map(\.shape), [[3, 3, 2, 2], [2], [24, 3], [3]])
        for (entry, values) in zip(entries, f.weights) {
            XCTAssertEqual(values.count, entry.shape.reduce(1, *))
            for (i, value) in values.enumerated() { model.parameters.values.pointer[entry.offset + i] = value }
        }
        let scaled = f.pixels.map { $0 / 255 }   // what the data loader hands a model
        model.reserve(maxBatch: f.shape[0])
        for training in [TrainingPass(seed: 1, step: 0, sampleIDs: Array(0..<f.shape[0])[...]), nil] {
            let logits = scaled.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: f.shape[0], training: training) }
            for (i, expected) in f.logits.enumerated() { XCTAssertEqual(logits[i], expected, accuracy: 1e-5, "logit \(i)") }
        }
    }

    func testMalformedConfigsAreRefused() throws {
        let json = Self.fixture.model.text
        let name = try XCTUnwrap(Self.fixture.model["config"]?["layers"]?.array?[1]["config"]?["name"]?.string)
        for (from, to, message) in [("\"height\": 6", "\"height\": 0", "option height is 0; expected an integer in 1...65536"),
                                    ("\"height\": 6", "\"height\": -2", "option height is -2; expected an integer"),
                                    ("\"width\": 5", "\"width\": 2.5", "option width is 2.5; expected an integer"),
                                    ("\"width\": 5", "\"width\": \"5\"", "option width is \"5\"; expected an integer"),
                                    ("\"height\": 6, ", "", "option height is missing"),
                                    ("\"width\": 5", "\"width\": null", "option width is missing"),
                                    ("\"data_format\": \"channels_last\"", "\"data_format\": \"channels_first\"",
                                     "option data_format is \"channels_first\", which swift-distill does not implement"),
                                    ("\"data_format\": \"channels_last\"", "\"data_format\": \"nhwc\"", "option data_format is \"nhwc\"")] {
            let edited = json.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(edited, json, from)
            XCTAssertThrowsError(try ModelDescription(json: Array(edited.utf8), source: "t.json").build(gemm: testGEMM)) {
                XCTAssertTrue("\($0)".contains("layer '\(name)' (RandomCrop): \(message)"), "\($0)")
                XCTAssertFalse("\($0)".contains("\n"))
            }
        }
        XCTAssertThrowsError(try RandomCrop(height: 2, width: 2).build(inputShape: [12])) {
            XCTAssertTrue("\($0)".contains("RandomCrop needs images [height, width, channels], got [12]"), "\($0)")
        }
    }
}
