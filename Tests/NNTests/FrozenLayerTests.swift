import NN
import XCTest

/// Keras's `trainable: false`: a frozen layer's parameters get no gradient, so Adam leaves them
/// exactly as they were, while the layers around it learn (and the gradient still flows through it).
final class FrozenLayerTests: XCTestCase {
    func testFrozenDenseNeverMovesAndTheOthersDo() throws {
        let json = ModelDescriptionTests.keras([
            ModelDescriptionTests.layer("Conv2D", "c", #""filters": 2, "kernel_size": 3"#),
            ModelDescriptionTests.layer("Flatten", "f"),
            #"{"class_name": "Dense", "config": {"name": "frozen", "units": 4, "trainable": false, "activation": "relu"}}"#,
            ModelDescriptionTests.layer("Dense", "d", #""units": 3"#),
        ])
        let model = try ModelDescription(json: json, source: "m.json").build(gemm: testGEMM)
        var rng = SeededGenerator(seed: 9)
        model.parameters.initialize(using: &rng)
        let before = model.parameters.values.array
        model.reserve(maxBatch: 2)
        let input = FloatBuffer(rng.floats(2 * model.inputSize)), gradient = FloatBuffer(rng.floats(2 * 3))
        let adam = Adam()
        for _ in 0..<3 {
            model.parameters.zeroGradients()
            model.forward(input.pointer, batch: 2, training: TrainingPass(seed: 1, step: 0, sampleIDs: [0, 1]))
            model.backward(input.pointer, outputGradient: gradient.pointer, batch: 2)
            adam.update(model.parameters)
        }
        let after = model.parameters.values.array
        for entry in model.parameters.entries {
            let (old, new) = (before[entry.offset..<entry.offset + entry.count], after[entry.offset..<entry.offset + entry.count])
            if entry.name.hasPrefix("frozen.") {
                XCTAssertEqual(Array(old), Array(new), "\(entry.name) is frozen")
            } else {
                XCTAssertNotEqual(Array(old), Array(new), "\(entry.name) learns; the gradient reaches it through the frozen layer")
            }
        }
    }
}
