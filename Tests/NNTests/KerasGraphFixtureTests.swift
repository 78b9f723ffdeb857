import Foundation
import NN
import XCTest

/// Keras functional models against Keras's own logits, without Keras: the fixtures in
/// Tests/Fixtures/keras-graph (made by scripts/make-graph-fixtures.py) hold each model's
/// `to_json()`, four input images and Keras's inference logits for them, with every weight set by a
/// formula of the layer's name, the weight's name and its shape (the script's docstring), which
/// `formulaWeights` recomputes here to the same float32 bits.
final class KerasGraphFixtureTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/keras-graph").standardized

    /// The script's formula: FNV-1a-32 of "layer/weight", MurmurHash3's fmix32 of `h + i * 0x9E3779B9`,
    /// mapped to [-1, 1) and scaled by the weight name's base and amplitude (float64, one rounding); a kernel's
    /// amplitude is `sqrt(gain / fanIn)`, the gain 4.2 unless the fixture names another.
    static func formulaWeights(layer: String, weight: String, shape: [Int], gain: Double = 4.2) throws -> [Float] {
        let (base, amplitude): (Double, Double)
        switch weight {
        case "kernel", "depthwise_kernel", "pointwise_kernel":
            let depthwise = weight == "depthwise_kernel" || (shape.count == 4 && shape[3] == 1)
            let fanIn = depthwise ? shape[0] * shape[1] : shape.dropLast().reduce(1, *)
            (base, amplitude) = (0, (gain / Double(fanIn)).squareRoot())
        case "bias", "beta", "moving_mean": (base, amplitude) = (0, 0.1)
        case "gamma": (base, amplitude) = (1, 0.25)
        case "moving_variance": (base, amplitude) = (1, 0.5)
        case "mean": (base, amplitude) = (0.5, 0.1)       // Normalization's adapt weights
        case "variance": (base, amplitude) = (0.06, 0.02)
        case "count": (base, amplitude) = (0, 0)
        case "variable": (base, amplitude) = (0.5, 0.25)   // ConvNeXt's LayerScale
        case "alpha": (base, amplitude) = (0.25, 0.1)      // PReLU's slopes
        case "scale": (base, amplitude) = (1, 0.25)        // RMSNormalization's
        default: throw ModelError("no formula for weight \(weight) of \(layer)")
        }
        return uniform("\(layer)/\(weight)", count: shape.reduce(1, *)).map { Float(base + amplitude * $0) }
    }

    /// The formula's `count` values in [-1, 1) for `key`, exact in float64.
    static func uniform(_ key: String, count: Int) -> [Double] {
        var h: UInt32 = 2_166_136_261
        for byte in key.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
        return (0..<count).map { i in
            var x = h &+ UInt32(truncatingIfNeeded: i) &* 2_654_435_769
            x ^= x >> 16; x = x &* 2_246_822_507
            x ^= x >> 13; x = x &* 3_266_489_909
            x ^= x >> 16
            return (Double(x) / 4_294_967_296.0) * 2.0 - 1.0
        }
    }

    /// `name`'s `-io.json`.
    static func io(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("\(name)-io.json"))) as? [String: Any])
    }

    /// `name`'s model, built from `json` (its `<name>.json` unless given), with every weight set by the formula.
    static func formulaModel(_ name: String, json: [UInt8]? = nil) throws -> Sequential {
        let path = directory.appendingPathComponent("\(name).json").path
        let model = try (json.map { try ModelDescription(json: $0, source: path) } ?? ModelDescription(contentsOfFile: path)).build(gemm: testGEMM)
        let gain = (try io(name)["gain"] as? NSNumber)?.doubleValue ?? 4.2
        for entry in model.parameters.entries {
            let parts = entry.name.split(separator: ".", maxSplits: 1).map(String.init)
            let values = try formulaWeights(layer: parts[0], weight: parts[1], shape: entry.shape, gain: gain)
            (model.parameters.values.pointer + entry.offset).update(from: values, count: values.count)
        }
        return model
    }

    /// The stored inputs of `name`'s `-io.json`, as swift-distill's loader gives them (pixels divided by 255), and their shape.
    static func inputs(_ name: String) throws -> (values: [Float], shape: [Int]) {
        let io = try io(name)
        let shape = try XCTUnwrap(io["input_shape"] as? [Int]), pixels = io["pixels"] as? Bool ?? false
        let values = flatten(io["inputs"] as Any).map { pixels ? $0 / 255 : $0 }
        XCTAssertEqual(values.count, shape.reduce(1, *))
        return (values, shape)
    }

    static func flatten(_ value: Any) -> [Float] {
        if let number = value as? NSNumber { return [number.floatValue] }
        return (value as? [Any] ?? []).flatMap(flatten)
    }

    /// Builds `name`, sets its weights by the formula (checked against the script's first values and
    /// sums), runs the four images in inference and compares the logits with Keras's, before any
    /// softmax, within 1e-4 x max(1, |Keras's value|). Pixel inputs (0-255, `"pixels": true`) are given as the
    /// loader gives pixels, divided by 255.
    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try Self.formulaModel(name), io = try Self.io(name)
        let expected = try XCTUnwrap(io["weights"] as? [[String: Any]])
        XCTAssertEqual(model.parameters.entries.map(\.name).sorted(), expected.compactMap { $0["name"] as? String }.sorted(),
                       "\(name): the parameters are Keras's weights", file: file, line: line)
        let sums = Dictionary(uniqueKeysWithValues: expected.map { ($0["name"] as! String, ($0["sum"] as! NSNumber).doubleValue) })
        for entry in model.parameters.entries {
            let sum = (0..<entry.count).reduce(0) { $0 + Double(model.parameters.values.pointer[entry.offset + $1]) }
            XCTAssertEqual(sum, sums[entry.name] ?? .nan, accuracy: 1e-9 * Double(entry.count), "\(name) \(entry.name)", file: file, line: line)
        }
        let (input, shape) = try Self.inputs(name), keras = Self.flatten(io["logits"] as Any)
        model.reserve(maxBatch: shape[0])
        let logits = Array(UnsafeBufferPointer(start: input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: shape[0]) },
                                               count: shape[0] * model.outputSize))
        XCTAssertEqual(logits.count, keras.count, file: file, line: line)
        var worst: Float = 0
        for (ours, theirs) in zip(logits, keras) { worst = max(worst, abs(ours - theirs) / max(1, abs(theirs))) }
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): logits \(logits.prefix(5)) vs Keras's \(keras.prefix(5))", file: file, line: line)
        print("\(name): \(model.layers.count) layers, \(model.parameterCount) parameters; largest logit difference \(worst) of max(1, |Keras|)")
    }

    func testResidualNetworkWithBatchNormalization() throws { try check("residual") }
}

extension KerasGraphFixtureTests {
    /// ZeroPadding2D ((0, 1), (0, 1)) before stride-2 valid convolutions, ReLU6, DepthwiseConv2D,
    /// SeparableConv2D, BatchNormalization and Add skips.
    func testMobileNetLikeNetwork() throws { try check("mobilenet-like") }

    /// keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), weights=None, classes=10).
    func testKerasApplicationsMobileNetV2() throws { try check("mobilenetv2") }

    /// keras.applications.ResNet50V2(input_shape=(32, 32, 3), weights=None, classes=10): BatchNormalization
    /// axis 3, 7 x 7 stride-2 convolutions with bias, ZeroPadding2D before max pooling, 1 x 1 stride-2 pooling shortcuts.
    func testKerasApplicationsResNet50V2() throws { try check("resnet50v2") }

    /// keras.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None, classes=10, include_preprocessing=False):
    /// its hard sigmoid's `x + 3.0` and `x * (1 / 6)` (Keras operations with a number), hard swish, squeeze-and-excitation
    /// (GlobalAveragePooling2D keepdims, Multiply), 5 x 5 depthwise convolutions.
    func testKerasApplicationsMobileNetV3Small() throws { try check("mobilenetv3small") }

    /// keras.applications.NASNetMobile(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None):
    /// Cropping2D ((1, 0), (1, 0)) after ZeroPadding2D, SeparableConv2D, average and max pooling, Concatenate, HeNormal kernels.
    func testKerasApplicationsNASNetMobile() throws { try check("nasnetmobile") }

    /// keras.applications.ResNet50(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None): the
    /// post-activation (v1) bottleneck blocks, 1 x 1 stride-2 projection shortcuts with BatchNormalization.
    func testKerasApplicationsResNet50() throws { try check("resnet50") }

    /// Conv2D with groups 2 and 4 (kernel [KH, KW, C / groups, filters]), SAME and VALID, with bias.
    func testGroupedConvolutions() throws { try check("grouped") }

    /// keras.applications.EfficientNetB0(input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None), fed
    /// pixels: Rescaling(1 / 255), then Normalization with Keras's adapt weights (mean, variance, count), swish,
    /// squeeze-and-excitation, Dropout with noise_shape [None, 1, 1, 1] (nothing in inference), VarianceScaling kernels.
    func testKerasApplicationsEfficientNetB0() throws { try check("efficientnetb0") }

    /// keras.applications.EfficientNetV2B0 (the same arguments), fed pixels: Normalization with the ImageNet mean and
    /// variance in its config, fused MBConv blocks, a Constant bias initializer.
    func testKerasApplicationsEfficientNetV2B0() throws { try check("efficientnetv2b0") }

    /// keras.applications.ConvNeXtTiny (the same arguments), fed pixels: Normalization of pixels 0-255 reading the input,
    /// nested Sequential stem and downsampling, 7 x 7 Conv2D with groups = channels, LayerNormalization, Dense on
    /// [H, W, C], gelu, LayerScale.
    func testKerasApplicationsConvNeXtTiny() throws { try check("convnexttiny") }

    /// A Sequential of those models' layers on 28 x 28 x 1 pixels: Rescaling, Normalization (adapt weights), VarianceScaling,
    /// LayerNormalization, Dense on [H, W, C] with gelu, LayerScale, Dropout with noise_shape, Conv2D with one group per channel.
    func testSequentialOfTheNewLayers() throws { try check("sequential-new-layers") }

    /// keras.applications.InceptionResNetV2 at its smallest input, 75 x 75 x 3 (the same other arguments): 40
    /// CustomScaleLayers (x + r * scale; 0.17, 0.1 and 0.2), BatchNormalization with scale=False, Concatenate.
    func testKerasApplicationsInceptionResNetV2() throws { try check("inceptionresnetv2") }

    /// keras.applications.MobileNet(alpha=0.25, input_shape=(32, 32, 3), weights=None, classes=10, classifier_activation=None):
    /// depthwise convolutions without bias after ZeroPadding2D ((0, 1), (0, 1)), ReLU6, and a classifier of
    /// GlobalAveragePooling2D(keepdims=True), a 1 x 1 Conv2D and Reshape.
    func testKerasApplicationsMobileNet() throws { try check("mobilenet") }

    /// keras.applications.DenseNet121 (the same arguments): dense blocks of Concatenate, 2 x 2 AveragePooling2D transitions.
    func testKerasApplicationsDenseNet121() throws { try check("densenet121") }

    /// keras.applications.Xception at its smallest input, 71 x 71 x 3: SeparableConv2D without bias, 3 x 3 stride-2
    /// MaxPooling2D with padding "same" beside 1 x 1 stride-2 shortcuts.
    func testKerasApplicationsXception() throws { try check("xception") }

    /// keras.applications.InceptionV3 at its smallest input, 75 x 75 x 3: 1 x 7 and 7 x 1 convolutions, 3 x 3 stride-1
    /// AveragePooling2D with padding "same" (the padding left out of each mean), BatchNormalization with scale=False.
    func testKerasApplicationsInceptionV3() throws { try check("inceptionv3") }

    /// The layers beyond the applications' (28 x 28 x 1): ELU (layer; selu, elu, celu), PReLU with one slope per channel,
    /// the activations mish, softplus, softsign, leaky_relu, exponential, log_sigmoid, tanh_shrink, squareplus, hard_tanh,
    /// soft_shrink, hard_shrink, sparse_plus, sparse_sigmoid, the merges Maximum, Minimum, Subtract, Average,
    /// SpatialDropout2D, GaussianNoise, GaussianDropout, RMSNormalization, UnitNormalization.
    func testMoreLayers() throws { try check("more-layers") }
}
