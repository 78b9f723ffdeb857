import NN
import XCTest

/// Keras's Permute: output axis i is input axis dims[i] - 1; the values against an index formula, the gradient by
/// finite differences (a permutation is linear: exact), ShuffleNet's channel shuffle through Reshape and Permute, and
/// the one-line errors (dims not a permutation; a 4-D tensor reaching an image layer).
final class PermuteTests: XCTestCase {
    func testValuesFollowTheAxisOrder() throws {
        let shape = [2, 3, 4], input = (0..<24).map(Float.init)
        let h = try LayerHarness(Permute(order: [2, 0, 1]), inputShape: shape, batch: 1, input: input, seed: 140)
        XCTAssertEqual(h.outputShape, [4, 2, 3])
        _ = h.loss()
        // output[c][a][b] = input[a][b][c] = a * 12 + b * 4 + c
        var expected: [Float] = []
        for c in 0..<4 { for a in 0..<2 { for b in 0..<3 { expected.append(Float(a * 12 + b * 4 + c)) } } }
        XCTAssertEqual(h.output.array, expected)
    }

    func testGradients() throws {
        for (k, order) in [[1, 0, 2], [0, 1, 3, 2], [2, 0, 1]].enumerated() {
            let shape = order.count == 4 ? [2, 3, 2, 2] : [2, 3, 4]
            let h = try LayerHarness(Permute(order: order), inputShape: shape, batch: 2, seed: 141 + UInt64(k))
            GradientChecker().checkLayer(h, "permute \(order)")
        }
    }

    /// Reshape to [H, W, groups, C / groups], Permute (1, 2, 4, 3), Reshape back: channel g * (C / G) + j moves to
    /// j * G + g, ShuffleNet's shuffle (C = 6, G = 2: 0 3 1 4 2 5).
    func testShuffleNetChannelShuffle() throws {
        let model = try KerasModel.build([KerasModel.layer("Reshape", "to_groups", #""target_shape": [2, 2, 2, 3]"#),
                                          KerasModel.layer("Permute", "swap", #""dims": [1, 2, 4, 3]"#),
                                          KerasModel.layer("Reshape", "back", #""target_shape": [2, 2, 6]"#),
                                          KerasModel.layer("Flatten", "f")], input: "[null, 2, 2, 6]")
        XCTAssertEqual(model.outputShapes, [[2, 2, 2, 3], [2, 2, 3, 2], [2, 2, 6], [24]])
        let input = (0..<24).map { Float($0 % 6) }
        XCTAssertEqual(KerasModel.infer(model, input, batch: 1), Array(repeating: [0, 3, 1, 4, 2, 5] as [Float], count: 4).flatMap { $0 })
    }

    func testErrors() {
        for (dims, words) in [("[1, 2]", ["not a permutation of its input's axes 1...3"]), ("[0, 1, 2]", ["dims is [0, 1, 2]", "permutation"]), ("[1, 1, 2]", ["permutation"]),
                              ("\"swap\"", ["dims"]), ("[1, 2, 3, 4]", ["not a permutation of its input's axes 1...3"])] {
            let layers = [KerasModel.layer("Permute", "p", #""dims": \#(dims)"#)]
            XCTAssertThrowsError(try KerasModel.build(layers, input: "[null, 2, 2, 6]"), dims) { error in
                for word in ["'p'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        assertModelError([KerasModel.layer("Reshape", "r", #""target_shape": [8, 8, 1, 1]"#), KerasModel.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3"#)],
                         saying: "layer 'c'", "[height, width, channels]", "[8, 8, 1, 1]")
    }
}
