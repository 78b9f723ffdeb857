import NN
import XCTest

/// Finite-difference checks of Dense's input, kernel and bias gradients.
final class DenseGradientTests: XCTestCase {
    func testGradients() throws {
        for gemm in testBackends {
            let h = try LayerHarness(Dense(units: 4, gemm: gemm), inputShape: [5], batch: 3, seed: 20)
            XCTAssertEqual(h.outputShape, [4])
            XCTAssertEqual(h.parameterNames, ["kernel", "bias"])
            XCTAssertEqual(h.parameters.map(\.count), [20, 4])
            GradientChecker().checkLayer(h, "dense on \(gemm.name)")
        }
    }

    func testSingleSampleSingleUnit() throws {
        for gemm in testBackends {
            let h = try LayerHarness(Dense(units: 1, gemm: gemm), inputShape: [7], batch: 1, seed: 21)
            GradientChecker().checkLayer(h, "dense 7->1 on \(gemm.name)")
        }
    }

    func testForwardIsInputTimesKernelPlusBias() throws {
        // [1, 2] x [[1, 2, 3], [4, 5, 6]] + [0.5, -1, 2] = [9.5, 11, 17]
        let h = try LayerHarness(Dense(units: 3, gemm: testGEMM), inputShape: [2], batch: 1, input: [1, 2], seed: 22)
        h.parameters[0].fill([1, 2, 3, 4, 5, 6])
        h.parameters[1].fill([0.5, -1, 2])
        _ = h.loss()
        XCTAssertEqual(h.output.array, [9.5, 11, 17])
    }

    /// On `[H, W, C]`, as Keras, the kernel is applied at every position: `[H, W, units]` (ConvNeXt's pointwise layers).
    func testOnAnImageEachPositionIsADenseOfItsChannels() throws {
        for gemm in testBackends {
            let h = try LayerHarness(Dense(units: 4, gemm: gemm), inputShape: [2, 3, 5], batch: 2, seed: 23)
            XCTAssertEqual(h.outputShape, [2, 3, 4])
            XCTAssertEqual(h.parameters.map(\.count), [20, 4], "the kernel is [channels, units]")
            GradientChecker().checkLayer(h, "dense on [2, 3, 5] on \(gemm.name)")
            _ = h.loss()
            let (x, w, b, y) = (h.input.array, h.parameters[0].array, h.parameters[1].array, h.output.array)
            for row in 0..<12 {
                for u in 0..<4 {
                    let expected = (0..<5).reduce(Double(b[u])) { $0 + Double(x[row * 5 + $1]) * Double(w[$1 * 4 + u]) }
                    XCTAssertEqual(Double(y[row * 4 + u]), expected, accuracy: 1e-5, "position \(row), unit \(u)")
                }
            }
        }
    }
}
