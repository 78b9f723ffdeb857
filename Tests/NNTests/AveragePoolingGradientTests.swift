import NN
import XCTest

/// Finite-difference checks of AveragePooling2D and GlobalAveragePooling2D, and their forward
/// values where SAME padding leaves part of a window outside the image.
final class AveragePoolingGradientTests: XCTestCase {
    private func check(pool: (Int, Int), strides: (Int, Int), padding: Padding, seed: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let h = try LayerHarness(AveragePooling2D(poolSize: pool, strides: strides, padding: padding),
                                 inputShape: [5, 7, 3], batch: 2, seed: seed)
        GradientChecker().checkLayer(h, "average pool \(pool) \(strides) \(padding)", file: file, line: line)
    }

    func testValid2x2Stride2() throws { try check(pool: (2, 2), strides: (2, 2), padding: .valid, seed: 60) }
    func testSame3x3Stride2() throws { try check(pool: (3, 3), strides: (2, 2), padding: .same, seed: 61) }
    func testSame2x3Stride1() throws { try check(pool: (2, 3), strides: (1, 1), padding: .same, seed: 62) }

    func testSamePaddingAveragesOnlyCellsInsideTheImage() throws {
        // 3x3 input (one channel) 1...9, 2x2 windows, stride 2, SAME: output 2x2; the padding is
        // at the bottom and right, so the last row and column average 2 and 1 cells.
        let h = try LayerHarness(AveragePooling2D(poolSize: (2, 2), padding: .same), inputShape: [3, 3, 1], batch: 1,
                                 input: [1, 2, 3, 4, 5, 6, 7, 8, 9], seed: 63)
        _ = h.loss()
        XCTAssertEqual(h.output.array, [3, 4.5, 7.5, 9])
    }

    func testGlobalAverageGradientsAndValues() throws {
        let h = try LayerHarness(GlobalAveragePooling2D(), inputShape: [3, 4, 5], batch: 2, seed: 64)
        XCTAssertEqual(h.outputShape, [5])
        GradientChecker().checkLayer(h, "global average pool")
        let v = try LayerHarness(GlobalAveragePooling2D(), inputShape: [2, 1, 2], batch: 1, input: [1, 10, 3, 20], seed: 65)
        _ = v.loss()
        XCTAssertEqual(v.output.array, [2, 15])
        XCTAssertThrowsError(try LayerHarness(GlobalAveragePooling2D(), inputShape: [6], batch: 1, seed: 66))
        // keepdims (MobileNetV3's squeeze-and-excite): [1, 1, C], the same values and gradients.
        let kept = try LayerHarness(GlobalAveragePooling2D(keepDimensions: true), inputShape: [3, 4, 5], batch: 2, seed: 64)
        XCTAssertEqual(kept.outputShape, [1, 1, 5])
        XCTAssertEqual(kept.analyticGradients().input, h.analyticGradients().input)
        XCTAssertEqual(kept.output.array, h.output.array)
    }

    func testDenseAndConvolutionWithoutBias() throws {
        for gemm in testBackends {
            let dense = try LayerHarness(Dense(units: 3, useBias: false, gemm: gemm), inputShape: [4], batch: 2, seed: 67)
            XCTAssertEqual(dense.parameterNames, ["kernel"])
            GradientChecker().checkLayer(dense, "dense without bias on \(gemm.name)")
            let conv = try LayerHarness(Conv2D(filters: 2, kernelSize: (3, 3), padding: .same, useBias: false, gemm: gemm),
                                        inputShape: [4, 4, 2], batch: 2, seed: 68)
            XCTAssertEqual(conv.parameterNames, ["kernel"])
            GradientChecker().checkLayer(conv, "conv2d without bias on \(gemm.name)")
        }
    }
}
