import Foundation
import NN
import XCTest

/// Keras's `RandomFlip` against Keras 3.15's own `transform_images` on fixed draws
/// (Tests/Fixtures/keras-augmentation/random-flip.json, scripts/make-augmentation-fixtures.py),
/// in every mode; inference passes through; backward is the forward's transpose; the draws are
/// keyed on seed, epoch, layer and sample; a model that flips then rescales raw pixels gives Keras's logits.
final class RandomFlipTests: XCTestCase {
    struct Case: Decodable { let mode: String, output: [Float] }
    struct Fixture: Decodable {
        let shape: [Int], flips: [Bool], images: [Float], cases: [Case]
        let model: JSONValue, kernel: [Float], bias: [Float], pixels: [Float], logits: [Float]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-augmentation/random-flip.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    func testEveryModeFlipsAsKerasOnFixedDraws() throws {
        let f = Self.fixture
        let (batch, height, width, channels) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
        let size = height * width * channels
        XCTAssertEqual(f.cases.map(\.mode), RandomFlip.Mode.allCases.map(\.rawValue))
        for item in f.cases {
            let mode = try XCTUnwrap(RandomFlip.Mode(rawValue: item.mode))
            var output = [Float](repeating: -1, count: f.images.count)
            f.images.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { out in
                    for row in 0..<batch {
                        RandomFlip.flip(input.baseAddress! + row * size, to: out.baseAddress! + row * size, height: height, width: width,
                                        channels: channels, mode: mode, flips: f.flips[row])
                    }
                }
            }
            XCTAssertEqual(output, item.output, item.mode)
            XCTAssertNotEqual(output, f.images, "\(item.mode) changes the flipped images")
        }
    }

    /// In training the layer flips by its keyed draw; in inference it copies; backward is the transpose
    /// (`<forward(x), g> = <x, backward(g)>` exactly, for a permutation).
    func testTrainingDrawsInferenceAndBackward() throws {
        let layer = RandomFlip(mode: .horizontal)
        XCTAssertEqual(try layer.build(inputShape: [4, 5, 2]), [4, 5, 2])
        let ids = Array(0..<64)
        let x = (0..<(64 * 40)).map { Float($0 % 97) - 48 }
        var y = [Float](repeating: 0, count: x.count)
        layer.begin(nil, layer: 3)
        layer.forward(input: x, output: &y, batch: 64)
        XCTAssertEqual(y, x, "inference passes through")
        layer.begin(TrainingPass(seed: 7, step: 0, epoch: 2, sampleIDs: ids[...]), layer: 3)
        layer.forward(input: x, output: &y, batch: 64)
        var flipped = 0
        for row in 0..<64 {
            let flips = RandomFlip.draws(seed: 7, epoch: 2, layer: 3, sample: row)
            flipped += flips ? 1 : 0
            let image = Array(x[(row * 40)..<((row + 1) * 40)]), out = Array(y[(row * 40)..<((row + 1) * 40)])
            var mirrored = [Float]()
            for r in 0..<4 { for c in 0..<5 { for k in 0..<2 { mirrored.append(image[(r * 5 + 4 - c) * 2 + k]) } } }
            XCTAssertEqual(out, flips ? mirrored : image, "row \(row)")
        }
        XCTAssertGreaterThan(flipped, 16)
        XCTAssertLessThan(flipped, 48)
        let epochs = (0..<64).filter { RandomFlip.draws(seed: 7, epoch: 2, layer: 3, sample: $0) != RandomFlip.draws(seed: 7, epoch: 3, layer: 3, sample: $0) }
        XCTAssertGreaterThan(epochs.count, 16, "another epoch draws again")
        let g = (0..<x.count).map { Float(($0 * 31) % 17) - 8 }
        var back = [Float](repeating: 0, count: x.count)
        layer.backward(outputGradient: g, inputGradient: &back, input: x, output: y, batch: 64)
        let forwardDot = zip(y, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let backwardDot = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(forwardDot, backwardDot)
    }

    /// RandomFlip then Rescaling(1/255, offset -0.5) from Keras's JSON: the Rescaling behind the
    /// leading flip still gets the raw pixels, so the logits are Keras's on the same images.
    func testAFlipThenRescalingModelGivesKerasLogits() throws {
        let f = Self.fixture
        let json = Array(f.model.text.utf8)
        let model = try ModelDescription(json: json, source: "random-flip.json").build(gemm: testGEMM)
        let kernel = try XCTUnwrap(model.parameters.entries.first { $0.name.hasSuffix(".kernel") })
        let bias = try XCTUnwrap(model.parameters.entries.first { $0.name.hasSuffix(".bias") })
        for (i, value) in f.kernel.enumerated() { model.parameters.values.pointer[kernel.offset + i] = value }
        for (i, value) in f.bias.enumerated() { model.parameters.values.pointer[bias.offset + i] = value }
        let scaled = f.pixels.map { $0 / 255 }   // what the data loader hands a model
        model.reserve(maxBatch: f.shape[0])
        let logits = model.forward(scaled, batch: f.shape[0])
        for (i, expected) in f.logits.enumerated() { XCTAssertEqual(logits[i], expected, accuracy: 1e-5, "logit \(i)") }
    }
}
