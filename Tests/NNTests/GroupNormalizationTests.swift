import Foundation
import NN
import XCTest

/// Keras's GroupNormalization over the channel axis: forward against the formula in Double (each group of consecutive
/// channels normalised over all its positions and channels, then scaled and shifted per channel), finite-difference
/// gradients (smooth: the inputs' spread keeps the variance far from 0), and Keras's options.
final class GroupNormalizationTests: XCTestCase {
    func testForwardNormalisesEachGroup() throws {
        for groups in [1, 2, 3, -1] {
            let h = try LayerHarness(GroupNormalization(groups: groups, epsilon: 1e-3), inputShape: [2, 3, 6], batch: 2, seed: 130)
            XCTAssertEqual(h.parameterNames, ["gamma", "beta"])
            _ = h.loss()
            let (x, gamma, beta, y) = (h.input.array.map(Double.init), h.parameters[0].array, h.parameters[1].array, h.output.array)
            let width = groups == -1 ? 1 : 6 / groups
            for n in 0..<2 {
                for first in stride(from: 0, to: 6, by: width) {
                    let indices = (0..<6).flatMap { p in (first..<first + width).map { n * 36 + p * 6 + $0 } }
                    let mean = indices.reduce(0) { $0 + x[$1] } / Double(indices.count)
                    let variance = indices.reduce(0) { $0 + (x[$1] - mean) * (x[$1] - mean) } / Double(indices.count)
                    for i in indices {
                        let c = i % 6, expected = (x[i] - mean) / (variance + 1e-3).squareRoot() * Double(gamma[c]) + Double(beta[c])
                        XCTAssertEqual(Double(y[i]), expected, accuracy: 2e-6, "groups \(groups), value \(i)")
                    }
                }
            }
        }
    }

    func testGradients() throws {
        for (k, (groups, center, scale)) in [(2, true, true), (3, false, true), (-1, true, false), (1, false, false)].enumerated() {
            let h = try LayerHarness(GroupNormalization(groups: groups, center: center, scale: scale), inputShape: [3, 2, 6], batch: 2,
                                     seed: 131 + UInt64(k))
            XCTAssertEqual(h.parameterNames, (scale ? ["gamma"] : []) + (center ? ["beta"] : []))
            GradientChecker().checkLayer(h, "group normalization groups \(groups) center \(center) scale \(scale)")
        }
        GradientChecker().checkLayer(try LayerHarness(GroupNormalization(groups: 4), inputShape: [8], batch: 3, seed: 135), "on vectors")
    }

    func testKerasOptionsAndErrors() throws {
        let layer = try XCTUnwrap(try KerasModel.build([KerasModel.layer("Conv2D", "c", #""filters": 8, "kernel_size": 1"#),
                                                        KerasModel.layer("GroupNormalization", "g", #""groups": 4, "epsilon": 1e-05"#)]).layers.last as? GroupNormalization)
        XCTAssertEqual([layer.groups, layer.axis], [4, -1])
        XCTAssertEqual(layer.epsilon, 1e-5)
        let cases: [(String, [String])] = [
            (#""groups": 3"#, ["groups 3", "8 channels"]),
            (#""groups": 0"#, ["groups is 0"]),
            (#""groups": 16"#, ["groups 16"]),
            (#""axis": 1"#, ["axis is 1", "-1"]),
            (#""groups": 2, "gamma_constraint": {"class_name": "NonNeg"}"#, ["gamma_constraint"]),
        ]
        for (options, words) in cases {
            XCTAssertThrowsError(try KerasModel.build([KerasModel.layer("Conv2D", "c", #""filters": 8, "kernel_size": 1"#),
                                                       KerasModel.layer("GroupNormalization", "n", options)]), options) { error in
                for word in ["layer 'n'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}
