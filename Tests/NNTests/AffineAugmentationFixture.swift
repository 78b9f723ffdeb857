import Foundation
import NN
import XCTest

/// A Keras fixture of an affine augmentation layer (scripts/make-augmentation-fixtures.py): images,
/// each image's translation `[dx, dy]` or zoom `[zx, zy]`, Keras's `transform_images` output for every
/// fill mode and interpolation (fill_value 0.5), and a model's JSON holding the layer.
struct AffineAugmentationFixture: Decodable {
    struct Case: Decodable { let fill_mode: String, interpolation: String, output: [Float] }
    let shape: [Int], images: [Float], cases: [Case], model: JSONValue
    let translations: [[Float]]?, zooms: [[Float]]?

    static func load(_ name: String) -> AffineAugmentationFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-augmentation/\(name)")
        return try! JSONDecoder().decode(AffineAugmentationFixture.self, from: Data(contentsOf: url))
    }

    /// Every case against Keras: `resample(fillMode, interpolation, row, image, output)` writes one image.
    /// Float32 in TensorFlow's order, so within 1e-6 for bilinear reads (a fused multiply-add in
    /// TensorFlow's build may round a sum differently; pixels here are 0.001 to 3.0) and exact for nearest ones.
    func assertMatchesKeras(file: StaticString = #filePath, line: UInt = #line,
                            _ resample: (AffineImageSampler.FillMode, AffineImageSampler.Interpolation, Int, UnsafePointer<Float>,
                                         UnsafeMutablePointer<Float>) throws -> Void) throws {
        let size = shape[1] * shape[2] * shape[3]
        XCTAssertEqual(cases.count, 8, file: file, line: line)
        for item in cases {
            let (fill, interpolation) = (try XCTUnwrap(AffineImageSampler.FillMode(rawValue: item.fill_mode)),
                                         try XCTUnwrap(AffineImageSampler.Interpolation(rawValue: item.interpolation)))
            var output = [Float](repeating: -1, count: images.count)
            try images.withUnsafeBufferPointer { input in
                try output.withUnsafeMutableBufferPointer { out in
                    for row in 0..<shape[0] { try resample(fill, interpolation, row, input.baseAddress! + row * size, out.baseAddress! + row * size) }
                }
            }
            let worst = zip(output, item.output).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, interpolation == .nearest ? 0 : 1e-6, "\(item.fill_mode) \(item.interpolation)", file: file, line: line)
            XCTAssertNotEqual(output, images, file: file, line: line)
        }
        XCTAssertEqual(Set(cases.filter { $0.interpolation == "bilinear" }.map(\.output)).count, 4, "each case tests its own fill mode",
                       file: file, line: line)
    }
}
