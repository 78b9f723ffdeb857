import NN
import XCTest

/// MaxPooling2D's forward pass against a direct implementation in which padding never wins.
/// Inputs are all negative, so a layer that padded with 0 instead of -infinity would fail.
final class MaxPooling2DForwardTests: XCTestCase {
    static func naive(input: [Float], batch: Int, shape: [Int], pool: (Int, Int), strides: (Int, Int),
                      padding: Padding) -> (output: [Float], shape: [Int]) {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let (oh, top): (Int, Int), (ow, left): (Int, Int)
        switch padding {
        case .same:
            let sh = TFWindow.same(input: h, kernel: pool.0, stride: strides.0), sw = TFWindow.same(input: w, kernel: pool.1, stride: strides.1)
            (oh, top, ow, left) = (sh.output, sh.before, sw.output, sw.before)
        case .valid:
            (oh, top, ow, left) = (TFWindow.valid(input: h, kernel: pool.0, stride: strides.0), 0,
                                   TFWindow.valid(input: w, kernel: pool.1, stride: strides.1), 0)
        }
        var out = [Float](repeating: 0, count: batch * oh * ow * c)
        for n in 0..<batch {
            for y in 0..<oh {
                for x in 0..<ow {
                    for ch in 0..<c {
                        var best = -Float.infinity
                        for i in 0..<pool.0 {
                            for j in 0..<pool.1 {
                                let iy = y * strides.0 - top + i, ix = x * strides.1 - left + j
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                best = max(best, input[((n * h + iy) * w + ix) * c + ch])
                            }
                        }
                        out[((n * oh + y) * ow + x) * c + ch] = best
                    }
                }
            }
        }
        return (out, [oh, ow, c])
    }

    private func check(pool: (Int, Int), strides: (Int, Int), padding: Padding, shape: [Int] = [5, 7, 2],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let batch = 2
        var rng = SeededGenerator(seed: 210)
        let input = rng.floats(batch * elementCount(shape), in: -5, -0.5)
        let h = try LayerHarness(MaxPooling2D(poolSize: pool, strides: strides, padding: padding),
                                 inputShape: shape, batch: batch, input: input, seed: 0)
        _ = h.loss()
        let expected = Self.naive(input: input, batch: batch, shape: shape, pool: pool, strides: strides, padding: padding)
        XCTAssertEqual(h.outputShape, expected.shape, file: file, line: line)
        XCTAssertEqual(h.output.array, expected.output, "pool \(pool) \(strides) \(padding)", file: file, line: line)
        XCTAssertTrue(h.output.array.allSatisfy { $0 < 0 }, "padding won somewhere", file: file, line: line)
    }

    func testSame2x2Stride1AsInTheModels() throws { try check(pool: (2, 2), strides: (1, 1), padding: .same) }
    func testSame2x2Stride2OddInput() throws { try check(pool: (2, 2), strides: (2, 2), padding: .same) }
    func testSame3x3Stride2() throws { try check(pool: (3, 3), strides: (2, 2), padding: .same) }
    func testSame3x2MixedStrides() throws { try check(pool: (3, 2), strides: (2, 1), padding: .same) }
    func testValid2x2Stride2() throws { try check(pool: (2, 2), strides: (2, 2), padding: .valid) }
    func testValid3x3Stride1() throws { try check(pool: (3, 3), strides: (1, 1), padding: .valid) }
    func testSame3x3OnTinyInput() throws { try check(pool: (3, 3), strides: (1, 1), padding: .same, shape: [2, 2, 1]) }
    // 19 channels: sixteen through the vector path, three through the scalar tail.
    func testSame2x2Stride1With19Channels() throws { try check(pool: (2, 2), strides: (1, 1), padding: .same, shape: [4, 5, 19]) }
    func testValid3x2MixedStridesWith19Channels() throws { try check(pool: (3, 2), strides: (2, 1), padding: .valid, shape: [5, 7, 19]) }

    func testTiesSendTheGradientToTheFirstCellInEveryLane() throws {
        // 17 channels, all cells equal: the vector lanes and the scalar tail both pick the top-left cell.
        let channels = 17
        let h = try LayerHarness(MaxPooling2D(poolSize: (2, 2), strides: (1, 1)), inputShape: [3, 3, channels], batch: 1,
                                 input: [Float](repeating: -1, count: 9 * channels), seed: 0)
        h.upstream.fill((0..<4 * channels).map { Float($0 / channels + 1) })   // window k sends k + 1
        let gradient = h.analyticGradients().input
        let expectedPerCell: [Float] = [1, 2, 0, 3, 4, 0, 0, 0, 0]
        XCTAssertEqual(gradient, expectedPerCell.flatMap { [Float](repeating: $0, count: channels) })
    }

    func testTiesSendTheGradientToTheFirstCell() throws {
        // All cells equal: every 2x2 window's winner is its top-left cell in row-major order.
        let h = try LayerHarness(MaxPooling2D(poolSize: (2, 2), strides: (1, 1)), inputShape: [3, 3, 1], batch: 1,
                                 input: [Float](repeating: -1, count: 9), seed: 0)
        h.upstream.fill([1, 2, 3, 4])
        let gradient = h.analyticGradients().input
        XCTAssertEqual(h.output.array, [-1, -1, -1, -1])
        XCTAssertEqual(gradient, [1, 2, 0, 3, 4, 0, 0, 0, 0])
    }
}
