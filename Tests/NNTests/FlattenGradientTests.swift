import NN
import XCTest

final class FlattenGradientTests: XCTestCase {
    func testGradient() throws {
        let h = try LayerHarness(Flatten(), inputShape: [3, 2, 4], batch: 2, seed: 50)
        XCTAssertEqual(h.outputShape, [24])
        GradientChecker().checkLayer(h, "flatten")
    }

    func testForwardKeepsNHWCOrder() throws {
        let values = (0..<24).map(Float.init)
        let h = try LayerHarness(Flatten(), inputShape: [2, 3, 2], batch: 2, input: values, seed: 51)
        _ = h.loss()
        // Sample n, pixel (y, x), channel c sits at n*12 + (y*3 + x)*2 + c, as in NHWC memory.
        XCTAssertEqual(h.output.array, values)
    }
}
