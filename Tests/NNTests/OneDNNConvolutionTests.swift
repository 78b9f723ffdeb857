import NN
import XCTest

/// Conv2D through oneDNN's own convolution (the oneDNN backend, the batch size planned): for SAME and VALID
/// padding, strides (mixed per axis, and TensorFlow's uneven SAME padding), non-square kernels, with and
/// without bias, 7 x 7 stride 2, and inputs of fewer and of more channels than oneDNN's input gradient is
/// used for: the output matches the definition (Conv2DForwardTests.naive, in Double) within 1e-5, the
/// gradients pass finite differences (adding into the parameter gradients, overwriting the input gradient:
/// the harness's sentinels), and they equal the im2col + GEMM path's within 1e-5 of their largest entry,
/// with or without an input gradient to write. A pointwise convolution, and an output map of fewer than
/// `Conv2D.oneDNNMinimumOutputPixels` pixels, keep the GEMM (no plan), and meet the same checks.
///
/// Tolerances: sums of at most 7 * 7 * 9 products of values in [-1, 1) in float, rounded in another order
/// (about 1e-6 relative); the gradient checker's own tolerance is argued in GradientChecker.swift.
final class OneDNNConvolutionTests: XCTestCase {
    struct Setting: CustomStringConvertible {
        var kernel: (Int, Int), strides: (Int, Int), padding: Padding, channels: Int, filters: Int, bias = true, shape: (Int, Int) = (9, 9)
        var description: String { "k \(kernel) s \(strides) \(padding) \(channels) -> \(filters) bias \(bias) input \(shape)" }
    }

    static let settings: [Setting] = [
        Setting(kernel: (3, 3), strides: (1, 1), padding: .same, channels: 3, filters: 4),
        Setting(kernel: (3, 3), strides: (2, 2), padding: .same, channels: 8, filters: 4),
        Setting(kernel: (3, 3), strides: (1, 1), padding: .valid, channels: 2, filters: 3, bias: false),
        Setting(kernel: (3, 3), strides: (2, 2), padding: .valid, channels: 16, filters: 3),
        Setting(kernel: (2, 3), strides: (2, 2), padding: .same, channels: 2, filters: 3),    // rows 0 top / 1 bottom
        Setting(kernel: (2, 3), strides: (1, 1), padding: .valid, channels: 9, filters: 2, bias: false),
        Setting(kernel: (3, 2), strides: (1, 2), padding: .same, channels: 12, filters: 5),   // swapped stride axes would show
        Setting(kernel: (1, 1), strides: (2, 2), padding: .valid, channels: 3, filters: 2),
        Setting(kernel: (7, 7), strides: (2, 2), padding: .same, channels: 3, filters: 8, shape: (11, 9)),
        Setting(kernel: (3, 3), strides: (1, 1), padding: .same, channels: 16, filters: 16, shape: (6, 6)),
        Setting(kernel: (3, 3), strides: (1, 1), padding: .same, channels: 16, filters: 8, shape: (3, 3)),   // 9 pixels: the GEMM
        Setting(kernel: (3, 3), strides: (2, 2), padding: .same, channels: 8, filters: 8, shape: (2, 2)),    // 1 pixel: the GEMM
    ]

    private func harness(_ s: Setting, _ gemm: GEMMBackend, seed: UInt64) throws -> LayerHarness {
        let layer = Conv2D(filters: s.filters, kernelSize: s.kernel, strides: s.strides, padding: s.padding, useBias: s.bias, gemm: gemm)
        let h = try LayerHarness(layer, inputShape: [s.shape.0, s.shape.1, s.channels], batch: 2, seed: seed)
        layer.prepare(batch: 2)
        return h
    }

    func testTheLayerThroughOneDNNMatchesTheDefinitionTheGEMMPathAndFiniteDifferences() throws {
        let (oneDNN, openBLAS) = (try OneDNNGEMM(), OpenBLASGEMM())
        var plannedSettings = 0
        for (k, s) in Self.settings.enumerated() {
            let (viaOneDNN, viaGEMM) = (try harness(s, oneDNN, seed: 900 + UInt64(k)), try harness(s, openBLAS, seed: 900 + UInt64(k)))
            let planned = viaOneDNN.outputShape[0] * viaOneDNN.outputShape[1] >= Conv2D.oneDNNMinimumOutputPixels
            XCTAssertEqual((viaOneDNN.layer as! Conv2D).oneDNNBatchSizes, planned ? [2] : [], "\(s)")
            plannedSettings += planned ? 1 : 0
            XCTAssertEqual((viaGEMM.layer as! Conv2D).oneDNNBatchSizes, [], "\(s)")
            _ = viaOneDNN.loss()
            let bias = s.bias ? viaOneDNN.parameters[1].array : [Float](repeating: 0, count: s.filters)
            let expected = Conv2DForwardTests.naive(input: viaOneDNN.input.array, batch: 2, shape: [s.shape.0, s.shape.1, s.channels],
                                                    kernel: viaOneDNN.parameters[0].array, bias: bias, kernelSize: s.kernel,
                                                    strides: s.strides, padding: s.padding)
            assertClose(viaOneDNN.output.array.map(Double.init), expected.output, relative: 1e-5, absolute: 1e-5, "\(s)")
            checkOneDNNPath(viaOneDNN, against: viaGEMM, "convolution \(s)")
        }
        XCTAssertEqual(plannedSettings, Self.settings.count - 2, "all but the two small maps run through oneDNN")
    }

    /// Both input-gradient paths occur above (fewer and more input channels than the threshold) on planned maps.
    func testBothInputGradientPathsAreCovered() {
        let channels = Self.settings.filter { $0.shape.0 * $0.shape.1 >= 36 }.map(\.channels)
        XCTAssertTrue(channels.contains { $0 < Conv2D.oneDNNInputGradientChannels })
        XCTAssertTrue(channels.contains { $0 >= Conv2D.oneDNNInputGradientChannels })
    }

    /// 1 x 1 at stride 1 reads its input as its columns: it stays a GEMM, planned or not; an unplanned batch size takes im2col + GEMM.
    func testPointwiseAndUnplannedBatchesKeepTheGEMM() throws {
        let gemm = try OneDNNGEMM()
        let pointwise = Conv2D(filters: 4, kernelSize: (1, 1), gemm: gemm)
        _ = try LayerHarness(pointwise, inputShape: [5, 7, 16], batch: 2, seed: 950)
        pointwise.prepare(batch: 2)
        XCTAssertEqual(pointwise.oneDNNBatchSizes, [])

        let s = Self.settings[1]
        let planned = try harness(s, gemm, seed: 951)
        let unplanned = Conv2D(filters: s.filters, kernelSize: s.kernel, strides: s.strides, padding: s.padding, gemm: gemm)
        let h = try LayerHarness(unplanned, inputShape: [s.shape.0, s.shape.1, s.channels], batch: 2, seed: 951)
        XCTAssertEqual(unplanned.oneDNNBatchSizes, [])
        _ = (planned.loss(), h.loss())
        let largest = h.output.array.map { abs(Double($0)) }.max() ?? 0
        assertClose(planned.output.array.map(Double.init), h.output.array.map(Double.init), relative: 1e-5, absolute: 1e-5 * largest, "\(s)")
    }
}
