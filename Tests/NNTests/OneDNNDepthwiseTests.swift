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
}
