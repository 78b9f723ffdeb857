import NN
import XCTest

/// InceptionResNetV2's `CustomScaleLayer`, `y = x + r * scale`: Keras's Float32 values, the gradients of both inputs
/// in a graph, and the one-line errors for a missing scale or inputs of two shapes.
final class CustomScaleLayerTests: XCTestCase {
    /// The entry Keras 3 writes for it (keras.applications.inception_resnet_v2), reading `shortcut` and `branch`.
    private func json(scale: String) -> String {
        func tensor(_ layer: String) -> String {
            #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 2, 2, 1], "dtype": "float32", "keras_history": ["\#(layer)", 0, 0]}}"#
        }
        let input = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 2, 2, 1], "dtype": "float32", "sparse": false, "name": "x"}, "name": "x", "inbound_nodes": []}"#
        let branch = #"{"module": "keras.layers", "class_name": "ReLU", "config": {"name": "branch", "trainable": true, "dtype": "float32", "max_value": null, "negative_slope": 0.0, "threshold": 0.0}, "name": "branch", "inbound_nodes": [{"args": [\#(tensor("x"))], "kwargs": {}}]}"#
        let scaled = #"{"module": "keras.src.applications.inception_resnet_v2", "class_name": "CustomScaleLayer", "config": {"name": "custom_scale_layer", "trainable": true, "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}\#(scale)}, "registered_name": "CustomScaleLayer", "name": "custom_scale_layer", "inbound_nodes": [{"args": [[\#(tensor("x")), \#(tensor("branch"))]], "kwargs": {}}]}"#
        let flatten = #"{"module": "keras.layers", "class_name": "Flatten", "config": {"name": "f", "trainable": true, "dtype": "float32"}, "name": "f", "inbound_nodes": [{"args": [\#(tensor("custom_scale_layer"))], "kwargs": {}}]}"#
        return #"{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "g", "trainable": true, "layers": [\#([input, branch, scaled, flatten].joined(separator: ", "))], "input_layers": [["x", 0, 0]], "output_layers": [["f", 0, 0]]}}"#
    }

    /// Keras computes `inputs[0] + inputs[1] * 0.17` in Float32: 0.17 rounded to Float32, one multiply, one add.
    func testKerasJSONComputesInFloat32() throws {
        let model = try ModelDescription(json: Array(json(scale: #", "scale": 0.17"#).utf8), source: "m.json").build(gemm: testGEMM)
        XCTAssertEqual(model.layers[1].kind, "custom_scale")
        model.reserve(maxBatch: 1)
        let pixels: [Float] = [0.3, -0.7, 0.9, 0.123]
        let input = FloatBuffer(pixels)
        let output = Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 1), count: 4))
        let expected = pixels.map { $0 + max($0, 0) * Float(0.17) }
        XCTAssertEqual(output.map(\.bitPattern), expected.map(\.bitPattern), "\(output) against \(expected)")
    }

    func testMissingScaleIsAOneLineError() {
        for scale in ["", #", "scale": null"#, #", "scale": "big""#] {
            XCTAssertThrowsError(try ModelDescription(json: Array(json(scale: scale).utf8), source: "m.json").build(gemm: testGEMM)) {
                XCTAssertTrue("\($0)".contains("layer 'custom_scale_layer' (CustomScaleLayer): option scale"), "\($0)")
                XCTAssertFalse("\($0)".contains("\n"), "\($0)")
            }
        }
    }

    /// Both inputs' gradients (`dy` and `dy * scale`) against central differences, the shortcut also read by the branch.
    func testGradients() throws {
        let model = try Sequential(inputShape: [3, 3, 2], layers: [
            Conv2D(filters: 3, kernelSize: (3, 3), padding: .same, gemm: testGEMM),   // 0: the shortcut, read by 1 and 2
            Conv2D(filters: 3, kernelSize: (1, 1), padding: .same, gemm: testGEMM),   // 1: the branch
            CustomScaleLayer(scale: 0.17),                                             // 2: 0 + 1 * 0.17
            Flatten(),
            Dense(units: 2, gemm: testGEMM),
        ], inputs: [[-1], [0], [0, 1], [2], [3]])
        GradientChecker().checkModel(model, seed: 211)
    }

    func testInputsOfTwoShapesAreRefused() {
        XCTAssertThrowsError(try Sequential(inputShape: [2, 2, 3], layers: [Conv2D(filters: 2, kernelSize: (1, 1), padding: .same, gemm: testGEMM),
                                                                             CustomScaleLayer(scale: 0.1)], inputs: [[-1], [-1, 0]])) {
            XCTAssertTrue("\($0)".contains("CustomScaleLayer takes 2 inputs of one shape (shortcut, branch), got [2, 2, 3], [2, 2, 2]"), "\($0)")
        }
    }
}
