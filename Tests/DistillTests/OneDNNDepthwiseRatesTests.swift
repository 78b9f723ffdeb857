@testable import Distill
import NN
import XCTest

/// bench --profile's oneDNN yardsticks for a depthwise layer: the rates are positive and finite, warm and in the
/// step's cache state, and the step-like timing writes the whole operand a step has just produced (every value of
/// the input before the forward pass, of the output gradient before the backward passes). No speed is asserted:
/// these machines are shared.
final class OneDNNDepthwiseRatesTests: XCTestCase {
    func testRatesAndTheStepLikeCacheState() throws {
        let layer = DepthwiseConv2D(kernelSize: (3, 3), strides: (2, 2), padding: .same)
        _ = try layer.build(inputShape: [9, 7, 16])
        let rates = try XCTUnwrap(OneDNNDepthwiseRates(layer, batch: 3))
        for rate in [rates.forwardGBs, rates.backwardGBs, rates.stepLikeForwardGBs, rates.stepLikeBackwardGBs] {
            XCTAssertTrue(rate.isFinite && rate > 0, "\(rate)")
        }
        XCTAssertEqual(rates.implementation.split(separator: "/").count, 3, rates.implementation)

        let convolution = try OneDNNDepthwiseConvolution(layer, batch: 3)
        XCTAssertEqual(convolution.inputCount, 3 * 9 * 7 * 16)
        XCTAssertEqual(convolution.outputCount, 3 * 5 * 4 * 16)
        let seconds = try OneDNNDepthwiseRates.stepLikeSeconds(convolution)
        XCTAssertTrue(seconds.forward > 0 && seconds.backward > 0, "\(seconds)")
        XCTAssertTrue((0..<convolution.inputCount).allSatisfy { convolution.input[$0] == Float($0 & 15) / 16 - 0.5 })
        XCTAssertTrue((0..<convolution.outputCount).allSatisfy { convolution.outputGradient[$0] == Float($0 & 15) / 16 - 0.5 })
    }
}
