import NN
import XCTest

/// Finite-difference checks of Conv2D's input, kernel and bias gradients (batch 2, odd 5x7 input).
final class Conv2DGradientTests: XCTestCase {
    private func check(kernel: (Int, Int), strides: (Int, Int), padding: Padding, channels: Int, filters: Int,
                       seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        for gemm in testBackends {
            let layer = Conv2D(filters: filters, kernelSize: kernel, strides: strides, padding: padding, gemm: gemm)
            let h = try LayerHarness(layer, inputShape: [5, 7, channels], batch: 2, seed: seed)
            XCTAssertEqual(h.parameterNames, ["kernel", "bias"], file: file, line: line)
            XCTAssertEqual(h.parameters[0].count, kernel.0 * kernel.1 * channels * filters, file: file, line: line)
            GradientChecker().checkLayer(h, "conv \(kernel) \(strides) \(padding) on \(gemm.name)", file: file, line: line)
        }
    }

    func testSame3x3Stride1() throws {
        try check(kernel: (3, 3), strides: (1, 1), padding: .same, channels: 3, filters: 4, seed: 10)
    }

    func testSame3x3Stride2() throws {
        try check(kernel: (3, 3), strides: (2, 2), padding: .same, channels: 3, filters: 4, seed: 11)
    }

    func testValid3x3Stride1() throws {
        try check(kernel: (3, 3), strides: (1, 1), padding: .valid, channels: 2, filters: 3, seed: 12)
    }

    func testValid3x3Stride2() throws {
        try check(kernel: (3, 3), strides: (2, 2), padding: .valid, channels: 2, filters: 3, seed: 13)
    }

    func testSame2x3Stride1() throws {
        try check(kernel: (2, 3), strides: (1, 1), padding: .same, channels: 2, filters: 3, seed: 14)
    }

    func testSame2x3Stride2() throws {
        // 5x7, k 2x3, s 2: pad rows 0 top / 1 bottom, columns 1 left / 1 right.
        try check(kernel: (2, 3), strides: (2, 2), padding: .same, channels: 2, filters: 3, seed: 15)
    }

    func testValid2x3Stride1() throws {
        try check(kernel: (2, 3), strides: (1, 1), padding: .valid, channels: 3, filters: 2, seed: 16)
    }

    func testValid2x3Stride2() throws {
        try check(kernel: (2, 3), strides: (2, 2), padding: .valid, channels: 3, filters: 2, seed: 17)
    }

    // 1 x 1 at stride 1 reads its input as its columns and writes the input gradient from the GEMM directly
    // (no im2col, no col2im); at stride 2 it gathers through im2col as every other kernel does.
    func testPointwise() throws {
        try check(kernel: (1, 1), strides: (1, 1), padding: .valid, channels: 3, filters: 4, seed: 19)
        try check(kernel: (1, 1), strides: (1, 1), padding: .same, channels: 2, filters: 5, seed: 20)
    }

    func testOneByOneStride2() throws {
        try check(kernel: (1, 1), strides: (2, 2), padding: .valid, channels: 3, filters: 2, seed: 21)
    }

    func testSameMixedStrides() throws {
        // Different strides per axis catch a swapped height/width stride.
        try check(kernel: (3, 2), strides: (1, 2), padding: .same, channels: 2, filters: 3, seed: 18)
    }
}
