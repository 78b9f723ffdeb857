import NN
import XCTest

/// Conv2D's forward pass against hand values and against a direct (six-loop, Double) convolution
/// with TensorFlow's padding, which catches wrong im2col offsets, paddings or strides.
final class Conv2DForwardTests: XCTestCase {
    /// Direct convolution: `out[n, oh, ow, f] = bias[f] + sum input[n, oh*s - padTop + kh, ow*s - padLeft + kw, c]
    /// * kernel[kh, kw, c, f]`, padding cells read as zero.
    static func naive(input: [Float], batch: Int, shape: [Int], kernel: [Float], bias: [Float],
                      kernelSize: (Int, Int), strides: (Int, Int), padding: Padding) -> (output: [Double], shape: [Int]) {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let (kh, kw) = kernelSize, f = bias.count
        let (oh, top): (Int, Int), (ow, left): (Int, Int)
        switch padding {
        case .same:
            let sh = TFWindow.same(input: h, kernel: kh, stride: strides.0), sw = TFWindow.same(input: w, kernel: kw, stride: strides.1)
            (oh, top, ow, left) = (sh.output, sh.before, sw.output, sw.before)
        case .valid:
            (oh, top, ow, left) = (TFWindow.valid(input: h, kernel: kh, stride: strides.0), 0,
                                   TFWindow.valid(input: w, kernel: kw, stride: strides.1), 0)
        }
        var out = [Double](repeating: 0, count: batch * oh * ow * f)
        for n in 0..<batch {
            for y in 0..<oh {
                for x in 0..<ow {
                    for o in 0..<f {
                        var sum = Double(bias[o])
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let iy = y * strides.0 - top + i, ix = x * strides.1 - left + j
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                for ch in 0..<c {
                                    sum += Double(input[((n * h + iy) * w + ix) * c + ch])
                                        * Double(kernel[((i * kw + j) * c + ch) * f + o])
                                }
                            }
                        }
                        out[((n * oh + y) * ow + x) * f + o] = sum
                    }
                }
            }
        }
        return (out, [oh, ow, f])
    }

    private func forward(_ layer: Conv2D, shape: [Int], batch: Int, input: [Float], kernel: [Float], bias: [Float]) throws -> LayerHarness {
        let h = try LayerHarness(layer, inputShape: shape, batch: batch, input: input, seed: 0)
        h.parameters[0].fill(kernel)
        h.parameters[1].fill(bias)
        _ = h.loss()
        return h
    }

    func testHandValuesValid() throws {
        // 3x3 input 1...9, 2x2 kernel of ones: window sums 1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9.
        let h = try forward(Conv2D(filters: 1, kernelSize: (2, 2), gemm: testGEMM), shape: [3, 3, 1], batch: 1,
                            input: (1...9).map(Float.init), kernel: [1, 1, 1, 1], bias: [0])
        XCTAssertEqual(h.outputShape, [2, 2, 1])
        XCTAssertEqual(h.output.array, [12, 16, 24, 28])
    }

    func testHandValuesSameStride2PadsBottomRight() throws {
        // 4x4 input 1...16, 3x3 ones, stride 2, SAME: out 2x2, padTotal 1 -> nothing on top/left, one
        // row/column of zeros at the bottom/right. Windows start at rows/columns 0 and 2.
        let h = try forward(Conv2D(filters: 1, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: testGEMM), shape: [4, 4, 1],
                            batch: 1, input: (1...16).map(Float.init), kernel: [Float](repeating: 1, count: 9), bias: [0.5])
        XCTAssertEqual(h.outputShape, [2, 2, 1])
        // 1+2+3+5+6+7+9+10+11 = 54; 3+4+7+8+11+12 = 45; 9+10+11+13+14+15 = 72; 11+12+15+16 = 54.
        XCTAssertEqual(h.output.array, [54.5, 45.5, 72.5, 54.5])
    }

    func testHandValuesKernelOrientation() throws {
        // A kernel that picks only its bottom-right tap (HWIO [1, 1, 0, 0]) shifts the image:
        // VALID 2x2 over 3x3 gives input[y+1, x+1] = 5, 6, 8, 9; a flipped kernel would give 1, 2, 4, 5.
        let h = try forward(Conv2D(filters: 1, kernelSize: (2, 2), gemm: testGEMM), shape: [3, 3, 1], batch: 1,
                            input: (1...9).map(Float.init), kernel: [0, 0, 0, 1], bias: [0])
        XCTAssertEqual(h.output.array, [5, 6, 8, 9])
    }

    private func checkAgainstNaive(kernelSize: (Int, Int), strides: (Int, Int), padding: Padding,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let shape = [5, 7, 2], batch = 2, filters = 3
        var rng = SeededGenerator(seed: 200)
        let input = rng.floats(batch * elementCount(shape))
        // A fixed, asymmetric kernel: every tap distinct, so a wrong offset changes the sum.
        let count = kernelSize.0 * kernelSize.1 * shape[2] * filters
        let kernel = (0..<count).map { Float(($0 * 7) % 11 - 5) / 4 }
        let bias: [Float] = [0.5, -1, 0.25]
        let expected = Self.naive(input: input, batch: batch, shape: shape, kernel: kernel, bias: bias,
                                  kernelSize: kernelSize, strides: strides, padding: padding)
        for gemm in testBackends {
            let layer = Conv2D(filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, gemm: gemm)
            let h = try forward(layer, shape: shape, batch: batch, input: input, kernel: kernel, bias: bias)
            XCTAssertEqual(h.outputShape, expected.shape, file: file, line: line)
            assertClose(h.output.array, expected.output, relative: 1e-5, absolute: 1e-5,
                        "conv \(kernelSize) \(strides) \(padding) on \(gemm.name)", file: file, line: line)
        }
    }

    func testSameStride1() throws { try checkAgainstNaive(kernelSize: (3, 3), strides: (1, 1), padding: .same) }
    func testSameStride2() throws { try checkAgainstNaive(kernelSize: (3, 3), strides: (2, 2), padding: .same) }
    func testSame2x3Stride2() throws { try checkAgainstNaive(kernelSize: (2, 3), strides: (2, 2), padding: .same) }
    func testSameMixedStrides() throws { try checkAgainstNaive(kernelSize: (3, 2), strides: (1, 2), padding: .same) }
    func testValidStride1() throws { try checkAgainstNaive(kernelSize: (2, 3), strides: (1, 1), padding: .valid) }
    func testValidStride2() throws { try checkAgainstNaive(kernelSize: (3, 3), strides: (2, 2), padding: .valid) }
    func testValid2x3Stride2() throws { try checkAgainstNaive(kernelSize: (2, 3), strides: (2, 2), padding: .valid) }
    func testPointwise() throws {   // the path without im2col
        try checkAgainstNaive(kernelSize: (1, 1), strides: (1, 1), padding: .valid)
        try checkAgainstNaive(kernelSize: (1, 1), strides: (1, 1), padding: .same)
    }
    func testOneByOneStride2() throws { try checkAgainstNaive(kernelSize: (1, 1), strides: (2, 2), padding: .same) }
}
