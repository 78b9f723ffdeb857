import NN
import XCTest

/// Model definitions that cannot be built throw a ModelError with a useful message, not a crash.
final class ModelErrorTests: XCTestCase {
    private func assertModelError(_ message: [String], file: StaticString = #filePath, line: UInt = #line,
                                  _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is ModelError, "\(type(of: error))", file: file, line: line)
            for word in message {
                XCTAssertTrue("\(error)".contains(word), "'\(error)' does not mention \(word)", file: file, line: line)
            }
        }
    }

    func testValidConvolutionWindowLargerThanInput() {
        assertModelError(["5x5", "3x3"]) {
            _ = try Sequential(inputShape: [3, 3, 1], layers: [Conv2D(filters: 2, kernelSize: (5, 5), gemm: testGEMM)])
        }
        // Too tall only.
        assertModelError(["valid"]) {
            _ = try Sequential(inputShape: [2, 9, 1], layers: [Conv2D(filters: 2, kernelSize: (3, 1), gemm: testGEMM)])
        }
    }

    func testValidPoolingWindowLargerThanInput() {
        assertModelError(["3x3"]) {
            _ = try Sequential(inputShape: [4, 4, 1], layers: [
                Conv2D(filters: 2, kernelSize: (3, 3), strides: (2, 2), padding: .valid, gemm: testGEMM),   // -> 1x1
                MaxPooling2D(poolSize: (3, 3)),
            ])
        }
    }

    func testSameWindowLargerThanInputIsFine() throws {
        let model = try Sequential(inputShape: [2, 2, 1], layers: [Conv2D(filters: 1, kernelSize: (5, 5), padding: .same, gemm: testGEMM)])
        XCTAssertEqual(model.outputShapes, [[2, 2, 1]])
    }

    /// As in Keras, Dense on an unflattened input acts on its last axis; a model that ends so is refused by training
    /// (its outputs are not one per class: ModelCompatibility).
    func testDenseOnAnUnflattenedInputActsOnTheLastAxis() throws {
        let model = try Sequential(inputShape: [28, 28, 1], layers: [Conv2D(filters: 2, kernelSize: (3, 3), gemm: testGEMM), Dense(units: 10, gemm: testGEMM)])
        XCTAssertEqual(model.outputShapes.last, [26, 26, 10])
    }

    func testConvolutionOnAFlatInput() {
        assertModelError(["[10]"]) {
            _ = try Sequential(inputShape: [10], layers: [Conv2D(filters: 2, kernelSize: (3, 3), gemm: testGEMM)])
        }
    }

    func testNonPositiveSizes() {
        assertModelError(["filters"]) { _ = try Sequential(inputShape: [4, 4, 1], layers: [Conv2D(filters: 0, kernelSize: (3, 3), gemm: testGEMM)]) }
        assertModelError(["units"]) { _ = try Sequential(inputShape: [4], layers: [Dense(units: 0, gemm: testGEMM)]) }
        assertModelError(["strides"]) {
            _ = try Sequential(inputShape: [4, 4, 1], layers: [Conv2D(filters: 1, kernelSize: (3, 3), strides: (0, 1), gemm: testGEMM)])
        }
        assertModelError(["at least one layer"]) { _ = try Sequential(inputShape: [4], layers: []) }
    }
}
