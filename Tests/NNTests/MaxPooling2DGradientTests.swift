import NN
import XCTest

/// Finite-difference checks of MaxPooling2D. Inputs are distinct values 0.05 apart (no ties),
/// the step is 1e-2 < 0.05 / 2, so no step changes a window's winner.
final class MaxPooling2DGradientTests: XCTestCase {
    private func check(pool: (Int, Int), strides: (Int, Int), padding: Padding, seed: UInt64, channels: Int = 2,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = SeededGenerator(seed: seed)
        let shape = [5, 7, channels], batch = 2
        let input = rng.distinctFloats(batch * elementCount(shape), spacing: 0.05, offset: -3)
        let h = try LayerHarness(MaxPooling2D(poolSize: pool, strides: strides, padding: padding),
                                 inputShape: shape, batch: batch, input: input, seed: seed)
        GradientChecker().checkLayer(h, "max pool \(pool) \(strides) \(padding)", file: file, line: line)
    }

    func testValid2x2Stride2() throws { try check(pool: (2, 2), strides: (2, 2), padding: .valid, seed: 40) }
    func testValid2x2Stride1() throws { try check(pool: (2, 2), strides: (1, 1), padding: .valid, seed: 41) }
    func testSame2x2Stride1() throws { try check(pool: (2, 2), strides: (1, 1), padding: .same, seed: 42) }
    func testSame2x2Stride2() throws { try check(pool: (2, 2), strides: (2, 2), padding: .same, seed: 43) }
    func testSame3x3Stride2() throws { try check(pool: (3, 3), strides: (2, 2), padding: .same, seed: 44) }
    func testValid2x3MixedStrides() throws { try check(pool: (2, 3), strides: (1, 2), padding: .valid, seed: 45) }
    func testSame3x2Stride1() throws { try check(pool: (3, 2), strides: (1, 1), padding: .same, seed: 46) }
    func testSame2x2Stride1With18Channels() throws {
        // Sixteen channels through the vector path, two through the scalar tail.
        try check(pool: (2, 2), strides: (1, 1), padding: .same, seed: 47, channels: 18)
    }

    func testStridesDefaultToPoolSize() {
        XCTAssertTrue(MaxPooling2D(poolSize: (3, 2)).strides == (3, 2))
    }
}
