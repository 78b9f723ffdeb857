import NN
import XCTest

/// Keras's `Softmax` layer (last only, kept out of the logits, as a final softmax activation) and `Identity`
/// (no layer): the models they are in compute the logits the same model without them does.
final class SoftmaxLayerAndIdentityTests: XCTestCase {
    private let input: [Float] = (0..<64).map { Float($0 % 7) / 7 }

    func testSoftmaxLastAndIdentityAddNoLayer() throws {
        let plain = try KerasModel.build([KerasModel.layer("Flatten", "f"), KerasModel.layer("Dense", "d", #""units": 3"#)])
        let wrapped = try KerasModel.build([KerasModel.layer("Identity", "i"), KerasModel.layer("Flatten", "f"),
                                            KerasModel.layer("Dense", "d", #""units": 3"#), KerasModel.layer("Softmax", "s", #""axis": -1"#)])
        XCTAssertEqual(wrapped.layerNames, ["f", "d"])
        XCTAssertEqual(KerasModel.infer(wrapped, input, batch: 1), KerasModel.infer(plain, input, batch: 1), "the logits, not probabilities")
    }

    func testSoftmaxElsewhereIsRefused() {
        assertModelError([KerasModel.layer("Softmax", "s"), KerasModel.layer("Flatten", "f")], saying: "'s' (Softmax)", "softmax is supported only as the model's last")
        assertModelError([KerasModel.layer("Flatten", "f"), KerasModel.layer("Softmax", "s", #""axis": 1"#)], saying: "'s' (Softmax)", "axis must be -1")
        assertModelError([KerasModel.layer("Identity", "i", #""axis": 1"#)], saying: "'i' (Identity)", "option axis")
    }
}
