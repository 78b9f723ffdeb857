import NN
import XCTest

/// Keras 3's operations between a tensor and a number (`x + 3.0`, `x * (1 / 6)`, `c - x`, `x / c`), as to_json()
/// records them (`module` keras.src.ops.numpy, two positional arguments): each read into a `NumberOperation`, with
/// its gradient; two tensors added or multiplied read as the Add and Multiply layers; the rest refused in one line.
final class NumberOperationTests: XCTestCase {
    private func tensor(_ layer: String) -> String {
        #"{"class_name": "__keras_tensor__", "config": {"shape": [null, 2, 2, 1], "dtype": "float32", "keras_history": ["\#(layer)", 0, 0]}}"#
    }

    /// An operation entry as Keras 3 writes it: `args` as given (JSON texts).
    private func operation(_ className: String, _ name: String, args: [String], module: String = "keras.src.ops.numpy") -> String {
        #"{"module": "\#(module)", "class_name": "\#(className)", "config": {"name": "\#(name)"}, "registered_name": "\#(className)", "name": "\#(name)", "inbound_nodes": [{"args": [\#(args.joined(separator: ", "))], "kwargs": {}}]}"#
    }

    private func flatten(_ reads: String) -> String {
        #"{"module": "keras.layers", "class_name": "Flatten", "config": {"name": "f", "trainable": true, "dtype": "float32"}, "name": "f", "inbound_nodes": [{"args": [\#(tensor(reads))], "kwargs": {}}]}"#
    }

    /// Input [2, 2, 1] -> the entries -> Flatten, the model's output.
    private func model(_ entries: [String], last: String) throws -> Sequential {
        let input = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 2, 2, 1], "dtype": "float32", "sparse": false, "name": "x"}, "name": "x", "inbound_nodes": []}"#
        let json = #"{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "g", "trainable": true, "layers": [\#(([input] + entries + [flatten(last)]).joined(separator: ", "))], "input_layers": [["x", 0, 0]], "output_layers": [["f", 0, 0]]}}"#
        let model = try ModelDescription(json: Array(json.utf8), source: "m.json").build(gemm: testGEMM)
        model.reserve(maxBatch: 1)
        return model
    }

    func testGradients() throws {
        for (index, layer) in [NumberOperation(.add, number: 3), NumberOperation(.subtract, number: 0.5),
                               NumberOperation(.subtract, number: 0.5, numberFirst: true), NumberOperation(.multiply, number: 1.0 / 6),
                               NumberOperation(.trueDivide, number: -4), NumberOperation(.multiply, number: 2, inputScale: 255)].enumerated() {
            let h = try LayerHarness(layer, inputShape: [2, 3, 2], batch: 2, seed: 90 + UInt64(index))
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, "number operation \(index)")
        }
    }

    /// MobileNetV3's hard sigmoid's operations, (x + 3) * (1 / 6), then 1.5 - x and x / 2: the values Keras computes in
    /// Float32 (the number rounded to Float32 first, one rounding per operation), bit for bit.
    func testKerasJSONOperationsComputeInFloat32() throws {
        let model = try self.model([
            #"{"module": "keras.layers", "class_name": "ReLU", "config": {"name": "pre", "trainable": true, "dtype": "float32", "max_value": null, "negative_slope": 0.0, "threshold": 0.0}, "name": "pre", "inbound_nodes": [{"args": [\#(tensor("x"))], "kwargs": {}}]}"#,
            operation("Add", "plus", args: [tensor("pre"), "3.0"]),
            operation("Multiply", "scaled", args: [tensor("plus"), "0.16666666666666666"]),
            operation("Subtract", "from", args: ["1.5", tensor("scaled")]),
            operation("TrueDivide", "halved", args: [tensor("from"), "2"]),
        ], last: "halved")
        XCTAssertEqual(model.layerNames, ["pre", "plus", "scaled", "from", "halved", "f"])
        XCTAssertEqual(model.layers[1].kind, "number_operation")
        // The model's input is not read by an operation here (ReLU first), so no 255.
        let pixels: [Float] = [0, 0.2, 0.6, 1]
        let input = FloatBuffer(pixels)
        let output = Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 1), count: 4))
        let expected = pixels.map { (Float(1.5) - (max($0, 0) + 3) * Float(1.0 / 6)) / 2 }
        XCTAssertEqual(output.map(\.bitPattern), expected.map(\.bitPattern), "\(output) against \(expected)")
    }

    /// `inputs / 255.0` reading the model's input gets the raw pixels 0-255, as a leading Rescaling does.
    func testAnOperationReadingTheInputSeesRawPixels() throws {
        let model = try self.model([operation("TrueDivide", "scale", args: [tensor("x"), "255.0"])], last: "scale")
        let bytes: [Float] = [0, 1, 128, 255]
        let input = FloatBuffer(bytes.map { $0 / 255 })
        let output = model.forward(input.pointer, batch: 1)
        for (k, b) in bytes.enumerated() { XCTAssertEqual(output[k], b / 255, accuracy: 1e-7, "pixel \(b)") }
    }

    func testTwoTensorsAddedMultipliedOrSubtractedAreTheMergeLayers() throws {
        let relu = #"{"module": "keras.layers", "class_name": "ReLU", "config": {"name": "r", "trainable": true, "dtype": "float32"}, "name": "r", "inbound_nodes": [{"args": [\#(tensor("x"))], "kwargs": {}}]}"#
        let added = try model([relu, operation("Add", "sum", args: [tensor("r"), tensor("r")]),
                               operation("Multiply", "product", args: [tensor("sum"), tensor("r")]),
                               operation("Subtract", "difference", args: [tensor("product"), tensor("r")])], last: "difference")
        XCTAssertEqual(Array(added.layers.map(\.kind).dropFirst()), ["add", "multiply", "subtract", "flatten"])
        XCTAssertEqual(added.inputs[1], [0, 0])
        let input = FloatBuffer([0.5, -1, 2, 0])
        let output = added.forward(input.pointer, batch: 1)
        // relu [0.5, 0, 2, 0], doubled [1, 0, 4, 0], times relu [0.5, 0, 8, 0], less relu:
        XCTAssertEqual([output[0], output[1], output[2], output[3]], [0, 0, 6, 0])
    }

    func testUnsupportedOperationsAreOneLineErrors() {
        // (layer name, its arguments as JSON, module or the usual one, class, the error's words)
        let cases: [(name: String, className: String, args: [String], module: String?, message: String)] = [
            ("p", "Power", [tensor("x"), "2.0"], nil, "layer 'p' (Power): is a Keras operation (keras.src.ops.numpy); of the operations only add"),
            ("a", "Add", [tensor("x"), "3.0"], "keras.src.ops.math", "layer 'a' (Add): is a Keras operation (keras.src.ops.math)"),
            ("d", "TrueDivide", [tensor("x"), tensor("x")], nil, "on two tensors; of those only add, subtract and multiply"),
            ("d", "TrueDivide", ["1.0", tensor("x")], nil, "layer 'd' (keras.ops.true_divide): a number divided by a tensor is not supported"),
            ("d", "TrueDivide", [tensor("x"), "0"], nil, "layer 'd' (keras.ops.true_divide): divides by zero"),
            ("a", "Add", [tensor("x"), "\"three\""], nil, "expected a tensor and a number"),
            ("a", "Add", [tensor("x")], nil, "expected one call with two positional arguments"),
            ("m", "Multiply", [tensor("x"), "1e40"], nil, "expected a number in"),
        ]
        for c in cases {
            let entry = c.module.map { operation(c.className, c.name, args: c.args, module: $0) } ?? operation(c.className, c.name, args: c.args)
            do {
                _ = try model([entry], last: c.name)
                XCTFail("\(c.message): no error")
            } catch {
                XCTAssertTrue("\(error)".contains(c.message), "expected '\(c.message)', got: \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
