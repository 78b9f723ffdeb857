import Distill
import NN
import XCTest

/// Models Keras made (scripts/keras-roundtrip.py fixtures: the JSON, weights and Keras's outputs
/// for a few inputs) load as swift-distill checkpoints and give Keras's outputs, on both GEMM
/// backends. No Keras is needed here; `keras-roundtrip.py selftest` checks the way back.
final class KerasRoundTripTests: XCTestCase {
    private let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/keras-roundtrip").standardized.path

    private func check(_ name: String, layerNames: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let (io, metadata) = try SafeTensors.read(from: "\(directory)/\(name)-io.safetensors")
        let inputs = try XCTUnwrap(io.first { $0.name == "inputs" }), expected = try XCTUnwrap(io.first { $0.name == "outputs" })
        for kind in GEMMBackendKind.allCases {
            let loaded = try Checkpoint.load(from: "\(directory)/\(name).safetensors", gemm: try kind.make())
            XCTAssertEqual(loaded.description.name, name, file: file, line: line)
            // Keras numbers layers across a session: the second model's start at conv2d_2.
            XCTAssertEqual(loaded.model.layerNames, layerNames, file: file, line: line)
            let batch = inputs.shape[0], classes = expected.shape[1]
            XCTAssertEqual(Array(inputs.shape.dropFirst()), loaded.model.inputShape, file: file, line: line)
            loaded.model.reserve(maxBatch: batch)
            var outputs = inputs.values.withUnsafeBufferPointer {
                Array(UnsafeBufferPointer(start: loaded.model.forward($0.baseAddress!, batch: batch), count: batch * classes))
            }
            // A final softmax stays out of the logits; Keras's outputs are after it.
            if metadata["softmax"] == "true" {
                let logits = outputs
                softmax(logits, into: &outputs, rows: batch, classes: classes)
            }
            for (index, (got, want)) in zip(outputs, expected.values).enumerated() {
                XCTAssertEqual(got, want, accuracy: 2e-5 * max(1, abs(want)), "\(name) on \(kind) output \(index)", file: file, line: line)
            }
        }
    }

    func testConvolutionsPoolingAndASoftmaxHead() throws {
        try check("first", layerNames: ["conv2d", "conv2d_activation", "average_pooling2d", "conv2d_1", "leaky_re_lu",
                                        "max_pooling2d", "flatten", "dense", "dense_activation", "dense_1"])
    }

    /// BatchNormalization in inference, from Keras's moving statistics.
    func testGlobalAveragePoolingBatchNormalizationAndOnesBiasInitializer() throws {
        try check("second", layerNames: ["conv2d_2", "batch_normalization", "re_lu", "global_average_pooling2d", "dense_2"])
    }
}
