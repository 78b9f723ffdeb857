import XCTest

/// Checks `gradient` (`[rows * classes]`, row-major) against central differences of `loss` at `logits`
/// (steps of 1e-5, each entry within 2e-5 + 1e-4 of the difference); returns the largest difference's
/// magnitude, for a test to show the gradient is not trivially zero.
@discardableResult
func assertGradientMatchesCentralDifferences(_ gradient: [Float], at logits: [[Double]], _ label: String,
                                             file: StaticString = #filePath, line: UInt = #line,
                                             loss: ([[Double]]) -> Double) -> Double {
    var largest = 0.0
    for row in logits.indices {
        for j in logits[row].indices {
            var (up, down) = (logits, logits)
            up[row][j] += 1e-5
            down[row][j] -= 1e-5
            let numeric = (loss(up) - loss(down)) / 2e-5
            XCTAssertEqual(Double(gradient[row * logits[row].count + j]), numeric, accuracy: 2e-5 + 1e-4 * abs(numeric),
                           "\(label) d/dz[\(row)][\(j)]", file: file, line: line)
            largest = max(largest, abs(numeric))
        }
    }
    return largest
}
