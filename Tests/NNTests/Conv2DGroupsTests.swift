import NN
import XCTest

/// Conv2D with Keras's `groups`: gradients by finite differences, and the output and every gradient
/// equal to G plain convolutions, each on its slice of input channels with its slice of the kernel
/// (an independent construction from the layer without groups).
final class Conv2DGroupsTests: XCTestCase {
    func testGradientsMatchFiniteDifferences() throws {
        for gemm in testBackends {
            for (groups, channels, filters, strides, padding) in [(2, 4, 6, (1, 1), Padding.same), (3, 6, 3, (2, 2), .valid), (2, 2, 4, (2, 1), .same)] {
                let layer = Conv2D(filters: filters, kernelSize: (3, 2), strides: strides, padding: padding, groups: groups, gemm: gemm)
                let h = try LayerHarness(layer, inputShape: [5, 7, channels], batch: 2, seed: 40)
                XCTAssertEqual(h.parameters[0].count, 3 * 2 * (channels / groups) * filters, "kernel [KH, KW, C / G, F]")
                GradientChecker().checkLayer(h, "conv groups \(groups) \(strides) \(padding) on \(gemm.name)")
            }
        }
    }

    /// Group g reads input channels g*C/G..<(g+1)*C/G and writes filters g*F/G..<(g+1)*F/G with
    /// kernel[:, :, :, g*F/G..<(g+1)*F/G] and its bias slice: each group computed by a plain Conv2D.
    /// The second setting has one group per input channel, which runs as a depthwise convolution.
    func testEqualsOnePlainConvolutionPerGroup() throws {
        for (groups, channels, filters) in [(3, 6, 9), (6, 6, 12)] {
        let batch = 2
        let (cg, fg, kh, kw) = (channels / groups, filters / groups, 3, 3)
        for gemm in testBackends {
            let grouped = try LayerHarness(Conv2D(filters: filters, kernelSize: (kh, kw), strides: (2, 2), padding: .same, groups: groups, gemm: gemm),
                                           inputShape: [6, 5, channels], batch: batch, seed: 41)
            let analytic = grouped.analyticGradients(gradientSentinel: 0, inputSentinel: 0)
            let (oh, ow) = (grouped.outputShape[0], grouped.outputShape[1])
            let (kernel, bias, input) = (grouped.parameters[0].array, grouped.parameters[1].array, grouped.input.array)
            for g in 0..<groups {
                // The group's input channels, kernel columns, bias and upstream gradient, sliced out.
                let sliceInput = columns(input, rows: batch * 30, width: channels, from: g * cg, count: cg)
                let sliceKernel = columns(kernel, rows: kh * kw * cg, width: filters, from: g * fg, count: fg)
                let sliceUpstream = columns(grouped.upstream.array, rows: batch * oh * ow, width: filters, from: g * fg, count: fg)
                let plain = Conv2D(filters: fg, kernelSize: (kh, kw), strides: (2, 2), padding: .same, gemm: gemm)
                let h = try LayerHarness(plain, inputShape: [6, 5, cg], batch: batch, input: sliceInput, seed: 1)
                h.parameters[0].pointer.update(from: sliceKernel, count: sliceKernel.count)
                h.parameters[1].pointer.update(from: Array(bias[(g * fg)..<((g + 1) * fg)]), count: fg)
                h.upstream.pointer.update(from: sliceUpstream, count: sliceUpstream.count)
                let reference = h.analyticGradients(gradientSentinel: 0, inputSentinel: 0)
                let output = grouped.output.array, plainOutput = h.output.array
                for pixel in 0..<batch * oh * ow {
                    for f in 0..<fg {
                        XCTAssertEqual(output[pixel * filters + g * fg + f], plainOutput[pixel * fg + f], accuracy: 1e-5, "output, group \(g)")
                    }
                }
                for pixel in 0..<batch * 30 {
                    for c in 0..<cg {
                        XCTAssertEqual(analytic.input[pixel * channels + g * cg + c], reference.input[pixel * cg + c], accuracy: 1e-5, "input gradient")
                    }
                }
                for row in 0..<kh * kw * cg {
                    for f in 0..<fg {
                        XCTAssertEqual(analytic.parameters[0][row * filters + g * fg + f], reference.parameters[0][row * fg + f], accuracy: 1e-4,
                                       "kernel gradient")
                    }
                }
                for f in 0..<fg { XCTAssertEqual(analytic.parameters[1][g * fg + f], reference.parameters[1][f], accuracy: 1e-5, "bias gradient") }
            }
        }
        }
    }

    /// With one group per input channel the layer is the DepthwiseConv2D of multiplier filters / C on the same values
    /// (kernel [KH, KW, 1, F] read as [KH, KW, C, F / C]): the same bits, forward and every gradient, on each backend.
    func testOneGroupPerChannelIsTheDepthwiseConvolution() throws {
        for gemm in testBackends {
            for (multiplier, strides, padding, kernel) in [(1, (1, 1), Padding.same, (7, 7)), (2, (2, 2), .valid, (3, 3))] {
                let convolution = try LayerHarness(Conv2D(filters: 16 * multiplier, kernelSize: kernel, strides: strides, padding: padding,
                                                          groups: 16, gemm: gemm), inputShape: [8, 8, 16], batch: 3, seed: 42)
                XCTAssertEqual(convolution.parameters[0].count, kernel.0 * kernel.1 * 16 * multiplier, "kernel [KH, KW, 1, F]")
                let depthwise = try LayerHarness(DepthwiseConv2D(kernelSize: kernel, strides: strides, padding: padding, depthMultiplier: multiplier,
                                                                 gemm: gemm), inputShape: [8, 8, 16], batch: 3, seed: 42)
                XCTAssertEqual(convolution.outputShape, depthwise.outputShape)
                let (a, b) = (convolution.analyticGradients(), depthwise.analyticGradients())
                XCTAssertEqual(convolution.output.array, depthwise.output.array, "\(gemm.name) \(kernel)")
                XCTAssertEqual(a.input, b.input)
                XCTAssertEqual(a.parameters, b.parameters)
                XCTAssertTrue(try XCTUnwrap(convolution.layer as? PlannedLayer).gemmShapes(batch: 3).isEmpty, "no GEMM")
            }
        }
    }

    /// Columns `from..<from + count` of a row-major `[rows, width]` matrix.
    private func columns(_ values: [Float], rows: Int, width: Int, from: Int, count: Int) -> [Float] {
        var picked = [Float]()
        for row in 0..<rows { picked += values[(row * width + from)..<(row * width + from + count)] }
        return picked
    }

    func testGroupsMustDivideChannelsAndFilters() {
        for (channels, filters, groups) in [(4, 6, 3), (6, 4, 3), (4, 4, 0)] {
            let layer = Conv2D(filters: filters, kernelSize: (3, 3), groups: groups, gemm: testBackends[0])
            XCTAssertThrowsError(try layer.build(inputShape: [8, 8, channels])) {
                XCTAssertTrue("\($0)".contains("groups \(groups) must divide both its \(channels) input channels and its \(filters) filters"), "\($0)")
            }
        }
    }
}
