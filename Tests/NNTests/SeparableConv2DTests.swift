import NN
import XCTest

/// SeparableConv2D on every test GEMM backend: forward values against the direct depthwise loop of
/// `DepthwiseConv2DTests.naive` followed by a direct 1 x 1 convolution
/// `out[p, f] = bias[f] + sum_k mid[p, k] * pointwise[0, 0, k, f]` (both in Double), finite-difference
/// checks of the input, depthwise kernel, pointwise kernel and bias gradients with depth multipliers
/// 1 and 2, and Keras's options in a model description.
///
/// Tolerances: forward 1e-5 relative + 2e-5 absolute: the middle values are float sums of at most
/// 9 products in [-1, 1) and the pointwise sums add at most 6 of them times weights in [-1, 1)
/// (rounding about 1e-6; the backends may order the sums differently). The gradient checks are the
/// standard `GradientChecker`'s: the layer is linear in its input and in each single parameter, so
/// the central difference is exact up to float rounding.
final class SeparableConv2DTests: XCTestCase {
    static func naive(input: [Float], batch: Int, shape: [Int], depthwise: [Float], pointwise: [Float], bias: [Float]?,
                      filters: Int, kernelSize: (Int, Int), strides: (Int, Int), padding: Padding, depthMultiplier: Int)
        -> (output: [Double], shape: [Int])
    {
        let middle = DepthwiseConv2DTests.naive(input: input, batch: batch, shape: shape, kernel: depthwise, bias: nil,
                                                kernelSize: kernelSize, strides: strides, padding: padding, depthMultiplier: depthMultiplier)
        let width = middle.shape[2], pixels = batch * middle.shape[0] * middle.shape[1]
        var out = [Double](repeating: 0, count: pixels * filters)
        for p in 0..<pixels {
            for f in 0..<filters {
                var sum = Double(bias?[f] ?? 0)
                for k in 0..<width { sum += middle.output[p * width + k] * Double(pointwise[k * filters + f]) }
                out[p * filters + f] = sum
            }
        }
        return (out, [middle.shape[0], middle.shape[1], filters])
    }

    struct Setting: CustomStringConvertible {
        var kernel: (Int, Int), strides: (Int, Int), padding: Padding, dm: Int, bias: Bool, filters = 4, shape = [5, 7, 3]
        var description: String { "k \(kernel) s \(strides) \(padding) dm \(dm) bias \(bias) filters \(filters) input \(shape)" }
    }

    static let settings: [Setting] = [
        Setting(kernel: (3, 3), strides: (1, 1), padding: .same, dm: 1, bias: true),
        Setting(kernel: (3, 3), strides: (2, 2), padding: .same, dm: 2, bias: true),
        Setting(kernel: (2, 3), strides: (1, 1), padding: .valid, dm: 2, bias: false),
        Setting(kernel: (2, 3), strides: (2, 2), padding: .valid, dm: 1, bias: true, filters: 5),
        Setting(kernel: (3, 2), strides: (1, 2), padding: .same, dm: 2, bias: true, filters: 3, shape: [6, 8, 2]),
    ]

    private func layer(_ s: Setting, _ gemm: GEMMBackend) -> SeparableConv2D {
        SeparableConv2D(filters: s.filters, kernelSize: s.kernel, strides: s.strides, padding: s.padding, depthMultiplier: s.dm,
                        useBias: s.bias, gemm: gemm)
    }

    func testForwardIsDepthwiseThenPointwise() throws {
        for gemm in testBackends {
            for (k, s) in Self.settings.enumerated() {
                let batch = 3
                let h = try LayerHarness(layer(s, gemm), inputShape: s.shape, batch: batch, seed: 800 + UInt64(k))
                _ = h.loss()
                let expected = Self.naive(input: h.input.array, batch: batch, shape: s.shape, depthwise: h.parameters[0].array,
                                          pointwise: h.parameters[1].array, bias: s.bias ? h.parameters[2].array : nil,
                                          filters: s.filters, kernelSize: s.kernel, strides: s.strides, padding: s.padding,
                                          depthMultiplier: s.dm)
                XCTAssertEqual(h.outputShape, expected.shape, "\(s) on \(gemm.name)")
                assertClose(h.output.array, expected.output, relative: 1e-5, absolute: 2e-5, "\(s) on \(gemm.name)")
            }
        }
    }

    func testGradients() throws {
        for gemm in testBackends {
            for (k, s) in Self.settings.enumerated() {
                let h = try LayerHarness(layer(s, gemm), inputShape: s.shape, batch: 2, seed: 820 + UInt64(k))
                let c = s.shape[2]
                XCTAssertEqual(h.parameterNames, ["depthwise_kernel", "pointwise_kernel"] + (s.bias ? ["bias"] : []), "\(s)")
                XCTAssertEqual(h.parameterShapes, [[s.kernel.0, s.kernel.1, c, s.dm], [1, 1, c * s.dm, s.filters]] + (s.bias ? [[s.filters]] : []))
                GradientChecker().checkLayer(h, "separable \(s) on \(gemm.name)")
            }
        }
    }

    /// A model's first layer gets no input gradient buffer: its parameter gradients must be the same.
    func testParameterGradientsWithoutAnInputGradient() throws {
        for gemm in testBackends {
            for (k, s) in Self.settings.enumerated() {
                let h = try LayerHarness(layer(s, gemm), inputShape: s.shape, batch: 2, seed: 840 + UInt64(k))
                let full = h.analyticGradients(gradientSentinel: 0).parameters
                for g in h.gradients { g.zero() }
                _ = h.loss()
                h.layer.backward(outputGradient: h.upstream.pointer, inputGradient: nil, input: h.input.pointer,
                                 output: h.output.pointer, batch: h.batch)
                for (got, want) in zip(h.gradients.map(\.array), full) {
                    assertClose(got, want.map(Double.init), relative: 1e-6, absolute: 1e-6, "\(s) on \(gemm.name)")
                }
            }
        }
    }

    /// Reserved for 4, run on 2 and then 4: the middle buffer serves both, and the first two samples agree.
    func testSmallerBatchThanReserved() throws {
        for gemm in testBackends {
            let s = Self.settings[1]
            let h = try LayerHarness(layer(s, gemm), inputShape: s.shape, batch: 4, seed: 860)
            _ = h.loss()
            let four = h.output.array
            h.layer.forward(input: h.input.pointer, output: h.output.pointer, batch: 2)
            let perSample = elementCount(h.outputShape)
            assertClose(Array(h.output.array[..<(2 * perSample)]), Array(four[..<(2 * perSample)]).map(Double.init),
                        relative: 1e-6, absolute: 1e-6, "batch 2 of 4 on \(gemm.name)")
        }
    }

    // MARK: - Keras's options in a model description

    func testOptionsInAModel() throws {
        for gemm in testBackends {
            let model = try KerasModel.build([
                KerasModel.layer("SeparableConv2D", "s", #""filters": 5, "kernel_size": 3, "strides": [2, 2], "padding": "same", "depth_multiplier": 2, "dilation_rate": [1, 1], "pointwise_initializer": "ones", "depthwise_regularizer": null, "pointwise_constraint": null"#),
                KerasModel.layer("SeparableConv2D", "t", #""filters": 2, "kernel_size": [2, 1], "use_bias": false, "activation": "swish", "depthwise_initializer": {"class_name": "Zeros", "config": {}}"#),
            ], input: "[null, 8, 8, 3]", gemm: gemm)
            XCTAssertEqual(model.layerNames, ["s", "t", "t_activation"])
            XCTAssertEqual(model.outputShapes, [[4, 4, 5], [3, 4, 2], [3, 4, 2]])
            XCTAssertEqual(model.parameters.entries.map(\.name), ["s.depthwise_kernel", "s.pointwise_kernel", "s.bias",
                                                                  "t.depthwise_kernel", "t.pointwise_kernel"])
            XCTAssertEqual(model.parameters.entries.map(\.shape), [[3, 3, 3, 2], [1, 1, 6, 5], [5], [2, 1, 5, 1], [1, 1, 5, 2]])
            XCTAssertEqual(model.parameters.entries.map(\.initializer), [.glorotUniform, .ones, .zeros, .zeros, .glorotUniform])
            let s = try XCTUnwrap(model.layers[0] as? SeparableConv2D)
            XCTAssertEqual(s.depthwise.depthMultiplier, 2)
            XCTAssertEqual(s.pointwise.gemm.name, gemm.name, "the 1 x 1 convolution runs on the model's backend")
            XCTAssertEqual((model.layers[2] as? SmoothActivation)?.function, .silu)
        }
    }

    func testMalformedOptionsAreOneLineErrors() {
        let s = { (options: String) in [KerasModel.layer("SeparableConv2D", "s", options)] }
        assertModelError(s(#""filters": 2, "kernel_size": 3, "depth_multiplier": 0"#), saying: "'s' (SeparableConv2D)", "depth_multiplier is 0")
        assertModelError(s(#""filters": 2, "kernel_size": 3, "dilation_rate": 2"#), saying: "'s' (SeparableConv2D)", "dilation_rate is 2")
        assertModelError(s(#""filters": 2, "kernel_size": 3, "dilation_rate": [2, 1]"#), saying: "'s' (SeparableConv2D)", "dilation_rate is [2, 1]")
        for key in ["depthwise_regularizer", "depthwise_constraint", "pointwise_regularizer", "pointwise_constraint"] {
            assertModelError(s(#""filters": 2, "kernel_size": 3, "\#(key)": {"class_name": "L2"}"#), saying: "'s' (SeparableConv2D)", key)
        }
        assertModelError(s(#""filters": 2, "kernel_size": 3, "pointwise_initializer": "orthogonal""#), saying: "'s' (SeparableConv2D)", "pointwise_initializer")
        assertModelError(s(#""kernel_size": 3"#), saying: "'s' (SeparableConv2D)", "filters is missing")
        assertModelError(s(#""filters": 0, "kernel_size": 3"#), saying: "'s' (SeparableConv2D)", "filters is 0")
        assertModelError(s(#""filters": 2, "kernel_size": 3, "activation": "sparsemax""#), saying: "'s' (SeparableConv2D)", "activation", "hard_swish")
    }
}
