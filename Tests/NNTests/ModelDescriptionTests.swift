import NN
import XCTest

/// Keras `Sequential` JSON -> a `Sequential` named by the Keras layer names, or a one-line error
/// naming the layer and the option.
final class ModelDescriptionTests: XCTestCase {
    private let gemm = OpenBLASGEMM()

    /// A Keras 3 `to_json()` document with these layer entries after an InputLayer of `input`.
    static func keras(_ layers: [String], input: String = "[null, 8, 8, 1]", className: String = "Sequential") -> [UInt8] {
        let inputLayer = #"{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": \#(input), "dtype": "float32", "name": "input_layer"}}"#
        return Array(#"{"module": "keras", "class_name": "\#(className)", "config": {"name": "m", "layers": [\#(([inputLayer] + layers).joined(separator: ", "))]}}"#.utf8)
    }

    static func layer(_ className: String, _ name: String, _ options: String = "") -> String {
        #"{"class_name": "\#(className)", "config": {"name": "\#(name)", "trainable": true, "dtype": {"class_name": "DTypePolicy", "config": {"name": "float32"}}\#(options.isEmpty ? "" : ", " + options)}}"#
    }

    private func build(_ layers: [String], input: String = "[null, 8, 8, 1]") throws -> Sequential {
        try ModelDescription(json: Self.keras(layers, input: input), source: "m.json").build(gemm: gemm)
    }

    private func assertError(_ layers: [String], input: String = "[null, 8, 8, 1]", className: String = "Sequential",
                             saying words: String..., line: UInt = #line) {
        XCTAssertThrowsError(try ModelDescription(json: Self.keras(layers, input: input, className: className), source: "m.json")
            .build(gemm: gemm), line: line) { error in
            let message = "\(error)"
            for word in words { XCTAssertTrue(message.contains(word), "'\(message)' should contain '\(word)'", line: line) }
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", line: line)
        }
    }

    func testBuildsLayersNamedAsInTheJSON() throws {
        let model = try build([
            Self.layer("Conv2D", "conv2d_2", #""filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "activation": "relu""#),
            Self.layer("MaxPooling2D", "max_pooling2d_1", #""pool_size": [2, 2], "padding": "valid""#),
            Self.layer("Flatten", "flatten_3"),
            Self.layer("Dense", "dense_7", #""units": 3, "activation": "softmax""#),
        ])
        XCTAssertEqual(model.inputShape, [8, 8, 1])
        // The relu becomes a layer of its own; the final softmax stays out of the logits.
        XCTAssertEqual(model.layerNames, ["conv2d_2", "conv2d_2_activation", "max_pooling2d_1", "flatten_3", "dense_7"])
        XCTAssertEqual(model.outputShapes.map { $0 }, [[4, 4, 4], [4, 4, 4], [2, 2, 4], [16], [3]])
        XCTAssertEqual(model.parameters.entries.map(\.name), ["conv2d_2.kernel", "conv2d_2.bias", "dense_7.kernel", "dense_7.bias"])
        XCTAssertEqual(model.description?.name, "m")
        // Keras's default pooling strides are the pool size.
        XCTAssertEqual((model.layers[2] as? MaxPooling2D)?.strides.0, 2)
    }

    func testIntegersAndKeras2Spellings() throws {
        let model = try build([
            Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "strides": 1, "padding": "valid""#),
            Self.layer("LeakyReLU", "l", #""alpha": 0.1"#),
            Self.layer("Flatten", "f"),
            Self.layer("Dense", "d", #""units": 2"#),
        ])
        XCTAssertEqual(model.outputShapes[0], [6, 6, 2])
        XCTAssertEqual((model.layers[1] as? LeakyReLU)?.alpha, 0.1)
    }

    func testEveryRegisteredLayerTypeBuilds() throws {
        let model = try build([
            Self.layer("Conv2D", "c", #""filters": 4, "kernel_size": 3, "padding": "same", "use_bias": false, "kernel_initializer": "ones""#),
            Self.layer("ReLU", "r", #""max_value": null, "negative_slope": 0.0, "threshold": 0.0"#),
            Self.layer("AveragePooling2D", "a", #""pool_size": 2"#),
            Self.layer("Activation", "linear", #""activation": "linear""#),
            Self.layer("Activation", "relu", #""activation": "relu""#),
            Self.layer("GlobalAveragePooling2D", "g", #""keepdims": false"#),
            Self.layer("Dense", "d", #""units": 3, "bias_initializer": {"class_name": "Ones", "config": {}}"#),
            Self.layer("Activation", "s", #""activation": "softmax""#),
        ])
        // Activation("linear") and the final softmax become no layer at all.
        XCTAssertEqual(model.layerNames, ["c", "r", "a", "relu", "g", "d"])
        XCTAssertEqual(model.outputShapes, [[8, 8, 4], [8, 8, 4], [4, 4, 4], [4, 4, 4], [4], [3]])
        XCTAssertEqual(model.parameters.entries.map(\.name), ["c.kernel", "d.kernel", "d.bias"])
        var rng = SeededGenerator(seed: 1)
        model.parameters.initialize(using: &rng)
        let values = model.parameters.values.array
        XCTAssertEqual(Array(values[0..<36]), Array(repeating: 1, count: 36), "kernel_initializer ones: [3, 3, 1, 4]")
        XCTAssertEqual(Array(values.suffix(3)), [1, 1, 1], "bias_initializer Ones")
        XCTAssertEqual(model.parameters.entries.map(\.initializer), [.ones, .glorotUniform, .ones])
    }

    func testStructuralErrors() {
        assertError([Self.layer("Dense", "d", #""units": 2"#)], className: "MyModel", saying: "m.json", "MyModel", "Sequential and Functional")
        assertError([], saying: "m.json", "no layers")
        assertError([Self.layer("Dense", "d", #""units": 2"#)], input: "[null]", saying: "input shape")
        assertError([Self.layer("Dense", "d", #""units": 2"#)], input: "[null, 0, 8, 1]", saying: "input shape", "positive")
        assertError([Self.layer("Flatten", "x"), Self.layer("Dense", "x", #""units": 2"#)], saying: "'x'", "more than once")
        XCTAssertThrowsError(try ModelDescription(json: Array("{\"class_name\": ".utf8), source: "m.json")) {
            XCTAssertTrue("\($0)".contains("m.json: not valid JSON"), "\($0)")
        }
        XCTAssertThrowsError(try ModelDescription(json: Array("[1]".utf8), source: "m.json")) {
            XCTAssertTrue("\($0)".contains("no class_name"), "\($0)")
        }
    }

    /// Keras 2 and Keras 3 mean different functions by hard_sigmoid: only Keras 3's is implemented.
    func testKeras2HardSigmoidIsRefused() throws {
        let layers = [Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 2, "activation": "hard_sigmoid""#)]
        let keras3 = String(decoding: Self.keras(layers), as: UTF8.self)
        let keras2 = keras3.replacingOccurrences(of: #"{"module": "keras", "#, with: #"{"keras_version": "2.15.0", "module": "keras", "#)
        XCTAssertNotEqual(keras2, keras3)
        XCTAssertNoThrow(try ModelDescription(json: Array(keras3.utf8), source: "m.json").build(gemm: gemm))
        XCTAssertThrowsError(try ModelDescription(json: Array(keras2.utf8), source: "m.json")) { error in
            XCTAssertTrue("\(error)".contains("layer 'd' (Dense): activation hard_sigmoid in a Keras 2 model"), "\(error)")
        }
    }

    func testUnsupportedLayersAndOptionsAreNamed() {
        assertError([Self.layer("LSTM", "lstm", #""units": 2"#)], saying: "layer 'lstm' (LSTM)", "unknown layer type", "supported:", "Conv2D")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "dilation_rate": [2, 2]"#)],
                    saying: "layer 'c' (Conv2D)", "dilation_rate", "[2, 2]", "supported")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "padding": "causal""#)], saying: "padding", "valid, same")
        assertError([Self.layer("Conv2D", "c", #""filters": 0, "kernel_size": 3"#)], saying: "'c'", "filters is 0")
        assertError([Self.layer("Conv2D", "c", #""kernel_size": 3"#)], saying: "'c'", "filters is missing")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": [3, 3, 3]"#)], saying: "kernel_size", "pair")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "data_format": "channels_first""#)], saying: "data_format")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "kernel_regularizer": {"class_name": "OrthogonalRegularizer"}"#)],
                    saying: "kernel_regularizer", "OrthogonalRegularizer", "L1, L2, L1L2")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "activity_regularizer": {"class_name": "L2"}"#)],
                    saying: "activity_regularizer")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "kernel_initializer": {"class_name": "Orthogonal"}"#)],
                    saying: "kernel_initializer", "Orthogonal", "GlorotUniform")
        assertError([Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 2, "activation": "glu""#)],
                    saying: "'d' (Dense)", "activation is \"glu\"", "linear, relu, leaky_relu, relu6", "hard_swish", "tanh")
        assertError([Self.layer("Flatten", "f"), #"{"class_name": "Dense", "config": {"name": "d", "units": 2, "dtype": "float16"}}"#],
                    saying: "dtype", "float32")
        assertError([Self.layer("Flatten", "f"), #"{"class_name": "Dense", "config": {"name": "d", "units": 2, "trainable": "no"}}"#],
                    saying: "trainable", "true or false")
    }

    func testOptionsOfTheNewLayersThatHaveNoImplementation() {
        assertError([Self.layer("ReLU", "r", #""max_value": -6.0"#)], saying: "'r' (ReLU)", "max_value is -6")
        assertError([Self.layer("Activation", "t", #""activation": "log_softmax""#)], saying: "'t' (Activation)",
                    "activation is \"log_softmax\"", "linear, relu, leaky_relu, relu6, elu", "hard_sigmoid", "sigmoid", "silu", "swish", "tanh")
        assertError([Self.layer("Activation", "t")], saying: "'t' (Activation)", "activation is missing")
        assertError([Self.layer("GlobalAveragePooling2D", "g", #""keepdims": "yes""#)], saying: "keepdims", "true or false")
        assertError([Self.layer("Dropout", "x")], saying: "'x' (Dropout)", "rate is missing")
        // axis 1 is no longer refused while reading (a vector's channel axis) but when built on this image.
        assertError([Self.layer("BatchNormalization", "b", #""axis": 1"#)], saying: "layer 'b'", "axis is 1", "-1")
        assertError([Self.layer("BatchNormalization", "b", #""axis": 0"#)], saying: "'b' (BatchNormalization)", "axis is 0", "-1")
        assertError([Self.layer("BatchNormalization", "b", #""renorm": true"#)], saying: "renorm")
        assertError([Self.layer("BatchNormalization", "b", #""gamma_initializer": "zeros""#)], saying: "gamma_initializer", "Ones")
        assertError([Self.layer("Dropout", "x", #""rate": 1.0"#)], saying: "'x' (Dropout)", "rate is 1.0")
        assertError([Self.layer("Dropout", "x", #""rate": 0.5, "noise_shape": [null, 2, 1, 1]"#)], saying: "noise_shape", "broadcast")
        assertError([Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 2, "kernel_initializer": "orthogonal""#)],
                    saying: "kernel_initializer", "GlorotUniform, Zeros, Ones, HeNormal, HeUniform, LecunNormal")
    }

    func testShapesThatDoNotChainNameTheLayer() {
        assertError([Self.layer("LayerScale", "head", #""init_values": 0.5, "projection_dim": 4"#)], saying: "layer 'head'", "projection_dim 4",
                    "1 channels")
        assertError([Self.layer("Conv2D", "big", #""filters": 2, "kernel_size": 9"#)], saying: "layer 'big'", "does not fit")
    }

    /// Sizes that would overflow a count further on are refused by name, not trapped on.
    func testHugeShapesAreErrors() {
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 4294967296, "padding": "same""#)], saying: "'c'", "kernel_size")
        assertError([Self.layer("Flatten", "f")], input: "[null, 65536, 65536, 65536]", saying: "the input of shape", "2^31")
        assertError([Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 16777216"#)], input: "[null, 256, 256, 1]",
                    saying: "layer 'd'", "its kernel of shape [65536, 16777216]", "2^31")
        assertError([Self.layer("Conv2D", "c", #""filters": 16777216, "kernel_size": 1"#)], input: "[null, 4096, 4096, 1]",
                    saying: "layer 'c'", "its output of shape [4096, 4096, 16777216]")
    }

    func testSoftmaxOnlyAtTheEnd() {
        assertError([Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 4, "activation": "softmax""#),
                     Self.layer("Dense", "e", #""units": 2"#)], saying: "'d'", "softmax", "last")
    }

    /// The options the audit found ignored: a misspelt or unknown key kept the default in force.
    func testOptionsThatDoNotExistAreErrors() {
        assertError([Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 2, "foo": 1"#)],
                    saying: "'d' (Dense)", "option foo is not an option of Dense", "units")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "padd1ng": "valid""#)], saying: "'c' (Conv2D)", "option padd1ng")
        assertError([Self.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "stride": [2, 2]"#)], saying: "'c' (Conv2D)", "option stride ")
        assertError([Self.layer("Flatten", "f"), Self.layer("Dense", "d", #""units": 2, "use_bais": false"#)], saying: "option use_bais")
        assertError([Self.layer("Flatten", "f", #""units": 2"#)], saying: "'f' (Flatten)", "option units")
        let input = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 1], "name": "i", "sparse": true}}"#
        XCTAssertThrowsError(try ModelDescription(json: Array(#"{"class_name": "Sequential", "config": {"layers": [\#(input), \#(Self.layer("Flatten", "f"))]}}"#.utf8),
                                                  source: "m.json")) { XCTAssertTrue("\($0)".contains("'i' (InputLayer): option sparse"), "\($0)") }
        let misspelt = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 8, 8, 1], "name": "i", "spares": false}}"#
        XCTAssertThrowsError(try ModelDescription(json: Array(#"{"class_name": "Sequential", "config": {"layers": [\#(misspelt), \#(Self.layer("Flatten", "f"))]}}"#.utf8),
                                                  source: "m.json")) { XCTAssertTrue("\($0)".contains("option spares"), "\($0)") }
    }

    /// Every option Keras 3 writes for the implemented layers is known (the fixtures are Keras's own to_json()).
    func testKerasWrittenModelsHaveNoUnknownOptions() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-roundtrip")
        for name in ["every-layer-teacher.json", "every-layer-student.json"] {
            XCTAssertNoThrow(try ModelDescription(contentsOfFile: directory.appendingPathComponent(name).path).build(gemm: gemm), name)
        }
    }

    /// Numeric layer options have documented ranges and must be finite as Float32.
    func testNumericOptionsOutsideTheirRangeAreErrors() {
        assertError([Self.layer("LeakyReLU", "l", #""negative_slope": 1e300"#)], saying: "'l' (LeakyReLU)", "negative_slope is 1e+300", "0.0...1000.0")
        assertError([Self.layer("LeakyReLU", "l", #""negative_slope": -0.5"#)], saying: "negative_slope is -0.5")
        assertError([Self.layer("BatchNormalization", "b", #""epsilon": 1e40"#)], saying: "'b' (BatchNormalization)", "epsilon is 1e+40")
        assertError([Self.layer("BatchNormalization", "b", #""epsilon": 0"#)], saying: "epsilon is 0")
        assertError([Self.layer("BatchNormalization", "b", #""momentum": 2"#)], saying: "momentum is 2")
        assertError([Self.layer("ReLU", "r", #""negative_slope": 1e39"#)], saying: "negative_slope")
    }
}
