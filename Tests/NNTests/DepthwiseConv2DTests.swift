import NN
import XCTest

/// DepthwiseConv2D: forward values against a direct loop written from the definition
/// `out[n, oh, ow, c*dm + m] = bias[c*dm + m] + sum_{i,j} in[n, oh*s - padTop + i, ow*s - padLeft + j, c] * k[i, j, c, m]`
/// (in Double, with TensorFlow's 'same' padding computed here), hand values that pin the output
/// channel order, finite-difference checks of the input, kernel and bias gradients, and Keras's
/// options in a model description.
///
/// Tolerances: forward 1e-5 absolute + 1e-5 relative, for float sums of at most 9 products of
/// values in [-1, 1) (rounding about 1e-6). The gradient checks use `GradientChecker` unchanged: the
/// layer is linear in its input and in each parameter, so the central difference has no truncation
/// error, only float rounding (~1e-4 of the checker's 1e-3).
final class DepthwiseConv2DTests: XCTestCase {
    /// TensorFlow's rule: SAME `out = ceil(n / s)`, total padding `max((out - 1) s + k - n, 0)`, `total / 2`
    /// before; VALID `out = floor((n - k) / s) + 1`, none.
    static func window(_ n: Int, kernel k: Int, stride s: Int, _ padding: Padding) -> (output: Int, before: Int) {
        switch padding {
        case .same:
            let output = (n + s - 1) / s
            return (output, max((output - 1) * s + k - n, 0) / 2)
        case .valid:
            return (n >= k ? (n - k) / s + 1 : 0, 0)
        }
    }

    static func naive(input: [Float], batch: Int, shape: [Int], kernel: [Float], bias: [Float]?, kernelSize: (Int, Int),
                      strides: (Int, Int), padding: Padding, depthMultiplier dm: Int) -> (output: [Double], shape: [Int]) {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let (kh, kw) = kernelSize
        let (oh, top) = window(h, kernel: kh, stride: strides.0, padding)
        let (ow, left) = window(w, kernel: kw, stride: strides.1, padding)
        let width = c * dm
        var out = [Double](repeating: 0, count: batch * oh * ow * width)
        for n in 0..<batch {
            for y in 0..<oh {
                for x in 0..<ow {
                    for ch in 0..<c {
                        for m in 0..<dm {
                            var sum = Double(bias?[ch * dm + m] ?? 0)
                            for i in 0..<kh {
                                for j in 0..<kw {
                                    let iy = y * strides.0 - top + i, ix = x * strides.1 - left + j
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }   // padding reads 0
                                    sum += Double(input[((n * h + iy) * w + ix) * c + ch]) * Double(kernel[((i * kw + j) * c + ch) * dm + m])
                                }
                            }
                            out[((n * oh + y) * ow + x) * width + ch * dm + m] = sum
                        }
                    }
                }
            }
        }
        return (out, [oh, ow, width])
    }

    struct Setting: CustomStringConvertible {
        var kernel: (Int, Int), strides: (Int, Int), padding: Padding, dm: Int, bias: Bool, shape = [5, 7, 3]
        var description: String { "k \(kernel) s \(strides) \(padding) dm \(dm) bias \(bias) input \(shape)" }
    }

    static let settings: [Setting] = [
        Setting(kernel: (3, 3), strides: (1, 1), padding: .same, dm: 1, bias: true),
        Setting(kernel: (3, 3), strides: (2, 2), padding: .same, dm: 2, bias: true),
        Setting(kernel: (3, 3), strides: (1, 1), padding: .valid, dm: 2, bias: false),
        Setting(kernel: (3, 3), strides: (2, 2), padding: .valid, dm: 1, bias: true),
        Setting(kernel: (2, 3), strides: (1, 1), padding: .same, dm: 2, bias: true),       // rows padded 0 top, 1 bottom
        Setting(kernel: (2, 3), strides: (2, 2), padding: .same, dm: 1, bias: false),
        Setting(kernel: (2, 3), strides: (1, 1), padding: .valid, dm: 1, bias: true),
        Setting(kernel: (2, 3), strides: (2, 2), padding: .valid, dm: 2, bias: true),
        Setting(kernel: (3, 2), strides: (1, 2), padding: .same, dm: 3, bias: true),       // swapped stride axes would show
        Setting(kernel: (3, 3), strides: (2, 2), padding: .same, dm: 2, bias: true, shape: [6, 8, 2]),   // 0 before, 1 after
        Setting(kernel: (3, 3), strides: (1, 1), padding: .same, dm: 1, bias: true, shape: [2, 2, 1]),   // kernel larger than input
        Setting(kernel: (1, 1), strides: (2, 2), padding: .valid, dm: 4, bias: false, shape: [5, 7, 2]),
    ]

    private func layer(_ s: Setting) -> DepthwiseConv2D {
        DepthwiseConv2D(kernelSize: s.kernel, strides: s.strides, padding: s.padding, depthMultiplier: s.dm, useBias: s.bias)
    }

    func testForwardMatchesTheDefinition() throws {
        for (k, s) in Self.settings.enumerated() {
            let batch = 2
            let h = try LayerHarness(layer(s), inputShape: s.shape, batch: batch, seed: 700 + UInt64(k))
            _ = h.loss()
            let expected = Self.naive(input: h.input.array, batch: batch, shape: s.shape, kernel: h.parameters[0].array,
                                      bias: s.bias ? h.parameters[1].array : nil, kernelSize: s.kernel, strides: s.strides,
                                      padding: s.padding, depthMultiplier: s.dm)
            XCTAssertEqual(h.outputShape, expected.shape, "\(s)")
            assertClose(h.output.array, expected.output, relative: 1e-5, absolute: 1e-5, "\(s)")
        }
    }

    /// The profile's FMA-peak ceiling divides by these: every (output value, tap) pair whose input pixel is
    /// inside the image, counted one by one as the definition's loop above visits them; backward twice that.
    func testMultiplyAddsCountTheTapsInsideTheImage() throws {
        for s in Self.settings {
            let depthwise = layer(s)
            _ = try depthwise.build(inputShape: s.shape)
            let (h, w, c) = (s.shape[0], s.shape[1], s.shape[2])
            let (oh, top) = Self.window(h, kernel: s.kernel.0, stride: s.strides.0, s.padding)
            let (ow, left) = Self.window(w, kernel: s.kernel.1, stride: s.strides.1, s.padding)
            var taps = 0
            for y in 0..<oh {
                for x in 0..<ow {
                    for i in 0..<s.kernel.0 {
                        for j in 0..<s.kernel.1 where (0..<h).contains(y * s.strides.0 - top + i) && (0..<w).contains(x * s.strides.1 - left + j) {
                            taps += 1
                        }
                    }
                }
            }
            let counted = depthwise.multiplyAdds(batch: 3)
            XCTAssertEqual(counted.forward, 3 * taps * c * s.dm, "\(s)")
            XCTAssertEqual(counted.backward, 2 * counted.forward, "\(s)")
        }
    }

    /// Output channel c * dm + m (TensorFlow's order): channel 0 holds 1...9, channel 1 100 times that;
    /// every tap of filter (c, m) is c * dm + m + 1, so output channel j is (j + 1) times its channel's window sum.
    func testOutputChannelOrderByHand() throws {
        let input = (1...9).flatMap { [Float($0), Float(100 * $0)] }
        let h = try LayerHarness(DepthwiseConv2D(kernelSize: (2, 2), depthMultiplier: 2), inputShape: [3, 3, 2], batch: 1,
                                 input: input, seed: 0)
        XCTAssertEqual(h.parameterShapes, [[2, 2, 2, 2], [4]])
        h.parameters[0].fill((0..<4).flatMap { _ in [1, 2, 3, 4] as [Float] })   // [kh, kw, C, dm]: (c, m) -> c * 2 + m + 1
        h.parameters[1].fill([0.5, 0, 0, -1])
        _ = h.loss()
        XCTAssertEqual(h.outputShape, [2, 2, 4])
        let sums: [Float] = [12, 16, 24, 28]   // 2 x 2 windows of 1...9
        let expected: [Float] = sums.flatMap { (s: Float) -> [Float] in [s + 0.5, 2 * s, 300 * s, 400 * s - 1] }
        XCTAssertEqual(h.output.array, expected)
    }

    func testGradients() throws {
        for (k, s) in Self.settings.enumerated() {
            let h = try LayerHarness(layer(s), inputShape: s.shape, batch: 2, seed: 720 + UInt64(k))
            XCTAssertEqual(h.parameterNames, s.bias ? ["kernel", "bias"] : ["kernel"], "\(s)")
            XCTAssertEqual(h.parameterShapes, [[s.kernel.0, s.kernel.1, s.shape[2], s.dm]] + (s.bias ? [[s.shape[2] * s.dm]] : []), "\(s)")
            GradientChecker().checkLayer(h, "depthwise \(s)")
        }
    }

    /// A model's first layer gets no input gradient buffer: its parameter gradients must be the same.
    func testParameterGradientsWithoutAnInputGradient() throws {
        for (k, s) in Self.settings.enumerated() {
            let h = try LayerHarness(layer(s), inputShape: s.shape, batch: 2, seed: 740 + UInt64(k))
            let full = h.analyticGradients(gradientSentinel: 0).parameters
            for g in h.gradients { g.zero() }
            _ = h.loss()
            h.layer.backward(outputGradient: h.upstream.pointer, inputGradient: nil, input: h.input.pointer,
                             output: h.output.pointer, batch: h.batch)
            XCTAssertEqual(h.gradients.map(\.array), full, "\(s)")
        }
    }

    func testBuildRefusesWhatCannotBe() {
        XCTAssertThrowsError(try DepthwiseConv2D(kernelSize: (3, 3), depthMultiplier: 0).build(inputShape: [5, 5, 2])) {
            XCTAssertTrue("\($0)".contains("depth_multiplier"), "\($0)")
        }
        XCTAssertThrowsError(try DepthwiseConv2D(kernelSize: (6, 3)).build(inputShape: [5, 7, 2])) {
            XCTAssertTrue("\($0)".contains("does not fit"), "\($0)")
        }
        XCTAssertThrowsError(try DepthwiseConv2D(kernelSize: (3, 3)).build(inputShape: [9]))
    }

    // MARK: - Keras's options in a model description

    func testOptionsInAModel() throws {
        let model = try KerasModel.build([
            KerasModel.layer("DepthwiseConv2D", "d", #""kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "depth_multiplier": 2, "dilation_rate": [1, 1], "use_bias": true, "depthwise_initializer": {"class_name": "Ones", "config": {}}, "depthwise_regularizer": null"#),
            KerasModel.layer("DepthwiseConv2D", "e", #""kernel_size": 3, "use_bias": false, "activation": "relu6", "dilation_rate": 1"#),
            KerasModel.layer("DepthwiseConv2D", "f", #""kernel_size": [1, 2], "depth_multiplier": 3"#),
        ], input: "[null, 8, 8, 3]")
        XCTAssertEqual(model.layerNames, ["d", "e", "e_activation", "f"])
        XCTAssertEqual(model.outputShapes, [[4, 4, 6], [2, 2, 6], [2, 2, 6], [2, 1, 18]])
        XCTAssertEqual(model.parameters.entries.map(\.name), ["d.kernel", "d.bias", "e.kernel", "f.kernel", "f.bias"])
        XCTAssertEqual(model.parameters.entries.map(\.shape), [[3, 3, 3, 2], [6], [3, 3, 6, 1], [1, 2, 6, 3], [18]])
        XCTAssertEqual(model.parameters.entries.map(\.initializer), [.ones, .zeros, .glorotUniform, .glorotUniform, .zeros])
        let d = try XCTUnwrap(model.layers[0] as? DepthwiseConv2D)
        XCTAssertEqual([d.depthMultiplier, d.strides.0, d.strides.1], [2, 2, 2])
        XCTAssertEqual(d.padding, .same)
        XCTAssertEqual((model.layers[2] as? ClippedReLU)?.maxValue, 6)
        XCTAssertEqual((model.layers[3] as? DepthwiseConv2D)?.depthMultiplier, 3)
    }

    func testMalformedOptionsAreOneLineErrors() {
        let d = { (options: String) in [KerasModel.layer("DepthwiseConv2D", "d", options)] }
        assertModelError(d(#""kernel_size": 3, "depth_multiplier": 0"#), saying: "'d' (DepthwiseConv2D)", "depth_multiplier is 0", "1...4096")
        assertModelError(d(#""kernel_size": 3, "depth_multiplier": -2"#), saying: "'d' (DepthwiseConv2D)", "depth_multiplier is -2")
        assertModelError(d(#""kernel_size": 3, "depth_multiplier": 1.5"#), saying: "'d' (DepthwiseConv2D)", "depth_multiplier is 1.5")
        assertModelError(d(#""kernel_size": 3, "depth_multiplier": "2""#), saying: "'d' (DepthwiseConv2D)", "depth_multiplier is \"2\"")
        assertModelError(d(#""kernel_size": 3, "dilation_rate": 2"#), saying: "'d' (DepthwiseConv2D)", "dilation_rate is 2", "does not implement")
        assertModelError(d(#""kernel_size": 3, "dilation_rate": [2, 2]"#), saying: "'d' (DepthwiseConv2D)", "dilation_rate is [2, 2]")
        assertModelError(d(#""kernel_size": 3, "dilation_rate": [1, 2]"#), saying: "'d' (DepthwiseConv2D)", "dilation_rate is [1, 2]")
        assertModelError(d(#""kernel_size": 3, "depthwise_regularizer": {"class_name": "L2"}"#), saying: "'d' (DepthwiseConv2D)", "depthwise_regularizer")
        assertModelError(d(#""kernel_size": 3, "depthwise_constraint": {"class_name": "NonNeg"}"#), saying: "'d' (DepthwiseConv2D)", "depthwise_constraint")
        assertModelError(d(#""kernel_size": 3, "depthwise_initializer": "orthogonal""#), saying: "'d' (DepthwiseConv2D)", "depthwise_initializer", "GlorotUniform")
        assertModelError(d(#""kernel_size": 3, "kernel_initializer": "ones""#), saying: "'d' (DepthwiseConv2D)", "option kernel_initializer is not an option")
        assertModelError(d(#""depth_multiplier": 2"#), saying: "'d' (DepthwiseConv2D)", "kernel_size is missing")
        assertModelError(d(#""kernel_size": [3, 0]"#), saying: "'d' (DepthwiseConv2D)", "kernel_size is [3, 0]")
        assertModelError(d(#""kernel_size": 3, "strides": 0"#), saying: "'d' (DepthwiseConv2D)", "strides is 0")
        assertModelError(d(#""kernel_size": 3, "padding": "causal""#), saying: "'d' (DepthwiseConv2D)", "padding", "valid, same")
        assertModelError(d(#""kernel_size": 3, "activation": "glu""#), saying: "'d' (DepthwiseConv2D)", "activation", "relu6")
        assertModelError(d(#""kernel_size": 9"#), saying: "layer 'd'", "does not fit")
        assertModelError([KerasModel.layer("DepthwiseConv2D", "d", #""kernel_size": 1, "depth_multiplier": 4096"#)],
                         input: "[null, 1024, 1024, 8]", saying: "layer 'd'", "2^31")
    }
}

extension LayerHarness {
    var parameterShapes: [[Int]] { layer.parameterShapes.map(\.shape) }
}

/// Sizes the C loops could not index are one-line errors, planned without allocating anything.
final class DepthwiseSizeLimitTests: XCTestCase {
    private func plan(_ layer: String, input: String) -> String {
        do {
            _ = try ModelDescription(json: ModelDescriptionTests.keras([layer], input: input), source: "m.json").plan()
            return "no error"
        } catch { return "\(error)" }
    }

    func testDepthwiseBeyondTwoToThe31IsAnError() {
        let message = plan(ModelDescriptionTests.layer("DepthwiseConv2D", "dw", #""kernel_size": 1"#), input: "[null, 32768, 65536, 1]")
        XCTAssertTrue(message.contains("layer 'dw'") && message.contains("2^31 - 1"), message)
    }

    func testSeparableRefusesAHugeDepthwiseOutput() {
        let message = plan(ModelDescriptionTests.layer("SeparableConv2D", "sep", #""filters": 1, "kernel_size": 3, "padding": "same", "depth_multiplier": 4096"#),
                           input: "[null, 224, 224, 32]")
        // 6.6e9 values per image between the two parts: refused before anything is sized for them.
        XCTAssertTrue(message.contains("layer 'sep'") && message.contains("2^31"), message)
    }
}
