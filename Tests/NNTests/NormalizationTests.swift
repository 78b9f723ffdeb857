import NN
import XCTest

/// Keras's `Normalization` on the channel axis: `(x - mean) / max(sqrt(variance), 1e-7)` (and its inverse) in
/// Float32, the statistics from the config or from Keras's adapt weights (`mean`, `variance`, `count`, state no
/// gradient reaches), the raw pixels for one that reads the input, and its malformed options.
final class NormalizationTests: XCTestCase {
    private func model(_ options: String, input: String = "[null, 2, 2, 3]", before: [String] = []) throws -> Sequential {
        let layers = before + [ModelDescriptionTests.layer("Normalization", "n", options), ModelDescriptionTests.layer("Flatten", "f")]
        let model = try ModelDescription(json: ModelDescriptionTests.keras(layers, input: input), source: "m.json").build(gemm: testGEMM)
        model.reserve(maxBatch: 2)
        return model
    }

    /// The model's output for one sample of `values`, copied while the model and the input are alive.
    private func run(_ model: Sequential, _ values: [Float]) -> [Float] {
        let input = FloatBuffer(values)
        return withExtendedLifetime((model, input)) { Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 1), count: values.count)) }
    }

    private let inputs: [Float] = (0..<12).map { Float($0 * 7 % 12) / 11 - 0.3 }

    /// Keras's arithmetic, one value at a time in Float32.
    private func expected(_ x: Float, _ mean: Float, _ variance: Float, invert: Bool = false) -> Float {
        let deviation = max(variance.squareRoot(), Float(1e-7))
        return invert ? mean + x * deviation : (x - mean) / deviation
    }

    func testConfigStatisticsPerChannelAndTheirInverseInKerasFloat32() throws {
        let (means, variances): ([Float], [Float]) = ([0.485, 0.456, 0.406], [0.052441, 0.050176000000000005, 0.050625])
        for invert in [false, true] {
            let m = try model(#""axis": [3], "invert": \#(invert), "mean": [0.485, 0.456, 0.406], "variance": [0.052441, 0.050176000000000005, 0.050625]"#,
                              before: [ModelDescriptionTests.layer("Reshape", "r", #""target_shape": [2, 2, 3]"#)])
            XCTAssertTrue(m.parameters.entries.isEmpty, "the config's statistics are constants")
            let output = run(m, inputs)
            for i in 0..<12 {
                XCTAssertEqual(output[i], expected(inputs[i], means[i % 3], variances[i % 3], invert: invert), "value \(i), invert \(invert): the same bits")
            }
        }
    }

    func testOneNumberForEveryChannelAndAZeroVariance() throws {
        let m = try model(#""axis": -1, "mean": 0.5, "variance": 0.0"#, before: [ModelDescriptionTests.layer("Reshape", "r", #""target_shape": [2, 2, 3]"#)])
        let output = run(m, inputs)
        for i in 0..<12 { XCTAssertEqual(output[i], (inputs[i] - 0.5) / Float(1e-7), "divided by Keras's epsilon, not by zero") }
    }

    func testGradient() throws {
        for invert in [false, true] {
            let layer = Normalization(mean: [0.2, -0.4], variance: [2.5, 0.3], invert: invert)
            let h = try LayerHarness(layer, inputShape: [3, 2, 2], batch: 2, seed: 90)
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, "normalization, invert \(invert)")
        }
    }

    func testAdaptWeightsAreStateThatStartsAsTheIdentity() throws {
        let m = try model(#""axis": [3], "invert": false, "mean": null, "variance": null"#,
                          before: [ModelDescriptionTests.layer("Reshape", "r", #""target_shape": [2, 2, 3]"#)])
        XCTAssertEqual(m.parameters.entries.map(\.name), ["n.mean", "n.variance", "n.count"], "Keras's names and order")
        XCTAssertEqual(m.parameters.entries.map(\.shape), [[3], [3], []])
        var rng = SeededGenerator(seed: 1)
        m.parameters.initialize(using: &rng)
        XCTAssertEqual(run(m, inputs), inputs, "mean 0, variance 1 until adapted")
        // Imported statistics take effect on the next pass.
        let (means, variances): ([Float], [Float]) = ([1, -2, 0.5], [4, 0.25, 9])
        for (entry, values) in zip(m.parameters.entries, [means, variances]) {
            for (k, value) in values.enumerated() { m.parameters.values.pointer[entry.offset + k] = value }
        }
        let output = run(m, inputs)
        for i in 0..<12 { XCTAssertEqual(output[i], expected(inputs[i], means[i % 3], variances[i % 3])) }
    }

    func testAdaptWeightsGetNoGradientAndPassTheInputGradient() throws {
        let layer = Normalization()
        let h = try LayerHarness(layer, inputShape: [2, 2, 3], batch: 2, seed: 91)
        XCTAssertEqual(h.parameterNames, ["mean", "variance", "count"])
        XCTAssertEqual(layer.nonTrainableParameters, ["mean", "variance", "count"])
        h.parameters[1].pointer.update(from: [0.5, 2, 3], count: 3)   // variances, positive
        let analytic = h.analyticGradients()
        XCTAssertTrue(analytic.parameters.allSatisfy { $0.allSatisfy { $0 == 0 } }, "no gradient reaches the statistics")
        GradientChecker().check("normalization (weights) input gradient", values: h.input.pointer, count: h.input.count,
                                analytic: analytic.input, loss: h.loss)
    }

    func testOneThatReadsTheInputSeesRawPixels() throws {
        let bytes: [Float] = [0, 1, 17, 128, 200, 255, 3, 9, 64, 90, 250, 30]
        let m = try model(#""axis": [-1], "mean": [123.675, 116.28, 103.53], "variance": [3409.976025, 3262.6944, 3291.890625]"#)
        let output = run(m, bytes.map { $0 / 255 })
        let (means, variances): ([Float], [Float]) = ([123.675, 116.28, 103.53], [3409.976025, 3262.6944, 3291.890625])
        for i in 0..<12 { XCTAssertEqual(output[i], expected(bytes[i], means[i % 3], variances[i % 3]), "ConvNeXt's statistics on pixel \(bytes[i])") }
        let later = try model(#""axis": [-1], "mean": [123.675, 116.28, 103.53], "variance": [3409.976025, 3262.6944, 3291.890625]"#,
                              before: [ModelDescriptionTests.layer("Reshape", "r", #""target_shape": [2, 2, 3]"#)])
        let scaled = run(later, bytes.map { $0 / 255 })
        for i in 0..<12 { XCTAssertEqual(scaled[i], expected(bytes[i] / 255, means[i % 3], variances[i % 3]), "after a Reshape: 0-1") }
    }

    func testMalformedOptions() {
        let cases: [(String, [String])] = [
            (#""axis": null, "mean": 0.5, "variance": 1.0"#, ["axis is null", "last (channel) axis"]),
            (#""axis": [1, 2], "mean": 0.5, "variance": 1.0"#, ["axis is [1, 2]"]),
            (#""axis": 1, "mean": 0.5, "variance": 1.0"#, ["axis is 1", "-1"]),
            (#""axis": -1, "mean": [0.5, 0.5], "variance": 1.0"#, ["mean has 2 values", "3 channels"]),
            (#""axis": -1, "mean": 0.5, "variance": null"#, ["variance is null", "both or neither"]),
            (#""axis": -1, "mean": null, "variance": [1.0, 1.0, 1.0]"#, ["mean is null"]),
            (#""axis": -1, "mean": 0.5, "variance": -1.0"#, ["variance is negative"]),
            (#""axis": -1, "mean": "zero", "variance": 1.0"#, ["mean is \"zero\"", "list of numbers"]),
            (#""axis": -1, "mean": [], "variance": 1.0"#, ["mean is []"]),
            (#""axis": -1, "mean": 0.5, "variance": 1.0, "invert": "no""#, ["invert", "true or false"]),
            (#""axis": -1, "mean": 0.5, "variance": 1.0, "center": true"#, ["center"]),
        ]
        for (options, words) in cases {
            XCTAssertThrowsError(try model(options), options) { error in
                for word in ["layer 'n'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
