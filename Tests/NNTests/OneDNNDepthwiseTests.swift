import NN
import XCTest

/// oneDNN's depthwise convolution (the bench profile's yardstick) computes what DepthwiseConv2D computes:
/// for every setting of DepthwiseConv2DTests (SAME/VALID, strides, depth multipliers, non-square kernels,
/// with and without bias, a kernel larger than the input), the same input, kernel and bias give the same
/// output within 1e-5 relative (of the output's largest entry: sums of at most 9 products of values in
/// [-1, 1), rounded in a different order).
final class OneDNNDepthwiseTests: XCTestCase {
    func testForwardMatchesTheLayer() throws {
        for (k, s) in DepthwiseConv2DTests.settings.enumerated() {
            let batch = 3
            let layer = DepthwiseConv2D(kernelSize: s.kernel, strides: s.strides, padding: s.padding, depthMultiplier: s.dm, useBias: s.bias)
            let h = try LayerHarness(layer, inputShape: s.shape, batch: batch, seed: 760 + UInt64(k))
            _ = h.loss()

            let oneDNN = try OneDNNDepthwiseConvolution(layer, batch: batch)
            oneDNN.input.update(from: h.input.pointer, count: h.input.count)
            try oneDNN.setKernel(h.parameters[0].array)
            if s.bias { try XCTUnwrap(oneDNN.bias, "\(s)").update(from: h.parameters[1].pointer, count: h.parameters[1].count) }
            XCTAssertEqual(oneDNN.bias == nil, !s.bias, "\(s)")
            try oneDNN.run(.forward)

            let ours = h.output.array.map(Double.init)
            let largest = ours.map(abs).max() ?? 0
            let theirs = Array(UnsafeBufferPointer(start: oneDNN.output, count: h.output.count)).map(Double.init)
            assertClose(theirs, ours, relative: 1e-5, absolute: 1e-5 * largest, "\(s)")
            for pass in OneDNNDepthwiseConvolution.Pass.allCases {
                XCTAssertNoThrow(try oneDNN.run(pass), "\(s) \(pass)")
                XCTAssertFalse(oneDNN.implementations[pass, default: ""].isEmpty, "\(s) \(pass)")
            }
        }
    }

    /// The input, kernel and bias matter: a changed kernel tap changes oneDNN's output (so the check above is not vacuous).
    func testKernelReachesTheOutput() throws {
        let layer = DepthwiseConv2D(kernelSize: (3, 3), padding: .same, depthMultiplier: 2)
        let h = try LayerHarness(layer, inputShape: [5, 5, 3], batch: 1, seed: 790)
        let oneDNN = try OneDNNDepthwiseConvolution(layer, batch: 1)
        oneDNN.input.update(from: h.input.pointer, count: h.input.count)
        var kernel = h.parameters[0].array
        try oneDNN.setKernel(kernel)
        try oneDNN.run(.forward)
        let before = Array(UnsafeBufferPointer(start: oneDNN.output, count: h.output.count))
        kernel[4 * 6 + 5] += 1   // centre tap of channel 2, multiplier 1: output channel 5 of every pixel
        try oneDNN.setKernel(kernel)
        try oneDNN.run(.forward)
        let after = Array(UnsafeBufferPointer(start: oneDNN.output, count: h.output.count))
        let changed = Set(zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }.map { $0.offset % 6 })
        XCTAssertEqual(changed, [5])
    }

    /// The layer's own oneDNN path (a model on the oneDNN backend, the size planned): for every setting its output
    /// matches the definition, its gradients pass finite differences (adding into the parameter gradients,
    /// overwriting the input gradient, as the harness's sentinels check), and they equal the direct loop's within
    /// 1e-5 of their largest entry, with or without an input gradient to write.
    func testTheLayerThroughOneDNNMatchesTheDefinitionTheLoopAndFiniteDifferences() throws {
        let gemm = try OneDNNGEMM()
        for (k, s) in DepthwiseConv2DTests.settings.enumerated() {
            let seed = 820 + UInt64(k)
            let (viaOneDNN, viaLoop) = (try Self.harness(s, gemm, batch: 2, seed: seed), try Self.harness(s, nil, batch: 2, seed: seed))
            XCTAssertEqual((viaOneDNN.layer as! DepthwiseConv2D).oneDNNBatchSizes, [2], "\(s)")
            XCTAssertEqual((viaLoop.layer as! DepthwiseConv2D).oneDNNBatchSizes, [], "\(s)")
            _ = viaOneDNN.loss()
            let expected = DepthwiseConv2DTests.naive(input: viaOneDNN.input.array, batch: 2, shape: s.shape, kernel: viaOneDNN.parameters[0].array,
                                                      bias: s.bias ? viaOneDNN.parameters[1].array : nil, kernelSize: s.kernel, strides: s.strides,
                                                      padding: s.padding, depthMultiplier: s.dm)
            assertClose(viaOneDNN.output.array, expected.output, relative: 1e-5, absolute: 1e-5, "\(s)")
            checkOneDNNPath(viaOneDNN, against: viaLoop, "depthwise \(s)")
        }
    }

    /// The kernel and bias gradients go through oneDNN exactly where oneDNN names its depthwise kernel for them
    /// (`jit_dw`); elsewhere (its generic grouped convolution, 1-20x slower) the layer's loop computes them, so they
    /// equal the loop's bit for bit, while the input gradient stays oneDNN's. Both cases occur among these shapes
    /// (a 3 x 3 kernel on 7 x 7 and on 2 x 2 maps, a 5 x 5 kernel, a strided 1 x 1), and every setting above.
    func testKernelGradientsTakeTheLoopWhereOneDNNHasNoDepthwiseKernel() throws {
        let gemm = try OneDNNGEMM()
        var paths: Set<Bool> = []
        let shapes = DepthwiseConv2DTests.settings + [
            .init(kernel: (3, 3), strides: (1, 1), padding: .same, dm: 1, bias: true, shape: [7, 7, 32]),
            .init(kernel: (3, 3), strides: (1, 1), padding: .same, dm: 1, bias: true, shape: [2, 2, 32]),
            .init(kernel: (5, 5), strides: (1, 1), padding: .same, dm: 1, bias: false, shape: [7, 7, 32]),
            .init(kernel: (1, 1), strides: (2, 2), padding: .valid, dm: 1, bias: true, shape: [4, 4, 32]),
        ]
        for (k, s) in shapes.enumerated() {
            let seed = 870 + UInt64(k)
            let (viaOneDNN, viaLoop) = (try Self.harness(s, gemm, batch: 3, seed: seed), try Self.harness(s, nil, batch: 3, seed: seed))
            let layer = viaOneDNN.layer as! DepthwiseConv2D
            let named = try OneDNNDepthwiseConvolution(layer, batch: 3).implementations[.backwardWeights, default: ""]
            XCTAssertEqual(layer.oneDNNKernelGradientBatchSizes, named.hasPrefix("jit_dw") ? [3] : [], "\(s): oneDNN names \(named)")
            paths.insert(named.hasPrefix("jit_dw"))
            let (ours, loop) = (viaOneDNN.analyticGradients(), viaLoop.analyticGradients())
            if !named.hasPrefix("jit_dw") { XCTAssertEqual(ours.parameters, loop.parameters, "\(s)") }
            let largest = loop.input.map { abs(Double($0)) }.max() ?? 0
            assertClose(ours.input.map(Double.init), loop.input.map(Double.init), relative: 1e-5, absolute: 1e-5 * largest, "\(s)")
        }
        XCTAssertEqual(paths, [true, false], "both oneDNN's depthwise kernel and the loop should take some of these shapes")
    }

    /// A harness of the setting's layer on `gemm` (nil: the loop), the batch size planned.
    private static func harness(_ s: DepthwiseConv2DTests.Setting, _ gemm: GEMMBackend?, batch: Int, seed: UInt64) throws -> LayerHarness {
        let layer = DepthwiseConv2D(kernelSize: s.kernel, strides: s.strides, padding: s.padding, depthMultiplier: s.dm, useBias: s.bias, gemm: gemm)
        let h = try LayerHarness(layer, inputShape: s.shape, batch: batch, seed: seed)
        layer.prepare(batch: batch)
        return h
    }
}
