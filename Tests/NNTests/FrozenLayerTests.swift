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

    /// A frozen BatchNormalization runs in inference mode in training too (Keras): the moving
    /// statistics normalise, they never change, and the gradient is the affine map's.
    func testFrozenBatchNormalizationRunsInInferenceMode() throws {
        let json = ModelDescriptionTests.keras([
            #"{"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": false}}"#,
            ModelDescriptionTests.layer("Flatten", "f"),
        ], input: "[null, 2, 2, 3]")
        let model = try ModelDescription(json: json, source: "m.json").build(gemm: testGEMM)
        var rng = SeededGenerator(seed: 10)
        let values = model.parameters.values.pointer
        for k in 0..<model.parameters.count { values[k] = rng.floats(1, in: 0.5, 1.5)[0] }
        let before = model.parameters.values.array
        model.reserve(maxBatch: 2)
        let input = FloatBuffer(rng.floats(2 * model.inputSize))
        let inference = Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 2), count: 2 * 12))
        let pass = TrainingPass(seed: 1, step: 0, sampleIDs: [0, 1], reducer: BatchNormalizationTests.Alone())
        let training = Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 2, training: pass), count: 2 * 12))
        XCTAssertEqual(training, inference, "the moving statistics normalise in training")
        XCTAssertEqual(model.parameters.values.array, before, "the moving statistics do not move")

        let layer = BatchNormalization()
        layer.frozen = true
        let h = try LayerHarness(layer, inputShape: [2, 2, 3], batch: 2, seed: 11)
        for k in 2...3 { for i in 0..<3 { h.parameters[k].pointer[i] = rng.floats(1, in: 0.5, 1.5)[0] } }   // statistics, variance > 0
        layer.begin(pass, layer: 0)
        let analytic = h.analyticGradients()
        let checker = GradientChecker()
        checker.check("frozen bn input", values: h.input.pointer, count: h.input.count, analytic: analytic.input, loss: h.loss)
        for k in 0...1 {
            checker.check("frozen bn \(h.parameterNames[k])", values: h.parameters[k].pointer, count: 3,
                          analytic: analytic.parameters[k], loss: h.loss)
        }
    }
}
