import NN
import XCTest

/// Layers attached to a model outside its graph (a hint's regressor): their parameters follow the model's in
/// one store and train with them; the model's own weights start as without them. An inner layer's extra
/// gradient (`backward(adding:)`) and a forward that stops at a layer (`forward(through:)`) are what a hint needs.
final class AttachedLayerTests: XCTestCase {
    /// The fan-out and fan-in graph of `GraphGradientTests`: layer 0 is read by three layers, layer 3 is an Add.
    private func graph(attached: [AttachedLayer] = []) throws -> Sequential {
        let conv = { (filters: Int, size: Int) in Conv2D(filters: filters, kernelSize: (size, size), padding: .same, gemm: testGEMM) }
        return try Sequential(inputShape: [4, 4, 2], layers: [conv(3, 3), conv(3, 1), conv(3, 3), Add(), Multiply(), Flatten(),
                                                                 Dense(units: 3, gemm: testGEMM)],
                              inputs: [[-1], [0], [0], [1, 2, 0], [3, 1], [4], [5]], attached: attached)
    }

    func testAttachedParametersFollowTheModelsAndTrainWithThem() throws {
        let plain = try graph()
        let regressor = Conv2D(filters: 5, kernelSize: (1, 1), gemm: testGEMM)
        let model = try graph(attached: [AttachedLayer(name: "hint_regressor", layer: regressor, reads: 3)])
        XCTAssertEqual(model.attachedShapes, [[4, 4, 5]])
        XCTAssertEqual(model.modelParameterCount, plain.parameterCount)
        XCTAssertEqual(model.parameterCount, plain.parameterCount + 3 * 5 + 5)
        XCTAssertEqual(model.parameters.entries.map(\.name), plain.parameters.entries.map(\.name) + ["hint_regressor.kernel", "hint_regressor.bias"])
        XCTAssertEqual(model.trainableRanges, [0..<model.parameterCount], "the regressor is trained with the model")
        var (a, b) = (SeededGenerator(seed: 3), SeededGenerator(seed: 3))
        plain.parameters.initialize(using: &a)
        model.parameters.initialize(using: &b)
        XCTAssertEqual(Array(model.parameters.values.array.prefix(plain.parameterCount)), plain.parameters.values.array,
                       "the model's own weights start as without the attached layer")
        XCTAssertTrue(model.parameters.values.array.dropFirst(plain.parameterCount).contains { $0 != 0 })

        XCTAssertThrowsError(try graph(attached: [AttachedLayer(name: "conv2d_1", layer: Dense(units: 2, gemm: testGEMM), reads: 6)])) {
            XCTAssertEqual(($0 as? ModelError)?.description, "attached layer 'conv2d_1': the name is taken by another layer")
        }
        XCTAssertThrowsError(try graph(attached: [AttachedLayer(name: "hint", layer: Dense(units: 0, gemm: testGEMM), reads: 3)])) {
            XCTAssertTrue(($0 as? ModelError)?.description.hasPrefix("attached layer 'hint': dense needs a positive number of units") == true, "\($0)")
        }
    }

    /// `sum(logits * P) + sum(output of layer i * Q)`: backward with Q added at layer i gives every parameter's
    /// gradient, checked by central differences, at the fan-out layer 0 and at the Add.
    func testAnInnerLayersAddedGradientReachesEveryParameterBelowIt() throws {
        for inner in [0, 3] {
            let model = try graph()
            var rng = SeededGenerator(seed: 41 + UInt64(inner))
            model.parameters.initialize(using: &rng)
            let batch = 2
            model.reserve(maxBatch: batch)
            let input = FloatBuffer(rng.floats(batch * model.inputSize))
            let projection = FloatBuffer(rng.floats(batch * model.outputSize))
            let innerProjection = FloatBuffer(rng.floats(batch * model.outputShapes[inner].reduce(1, *)))
            func loss() -> Double {
                let logits = model.forward(input.pointer, batch: batch)
                let features = model.output(ofLayer: inner)
                return (0..<projection.count).reduce(0) { $0 + Double(logits[$1]) * Double(projection.pointer[$1]) }
                    + (0..<innerProjection.count).reduce(0) { $0 + Double(features[$1]) * Double(innerProjection.pointer[$1]) }
            }
            model.parameters.zeroGradients()
            model.forward(input.pointer, batch: batch)
            model.backward(input.pointer, outputGradient: projection.pointer, batch: batch, adding: [(inner, UnsafePointer(innerProjection.pointer))])
            let analytic = model.parameters.gradients.array
            for entry in model.parameters.entries {
                GradientChecker(step: 1e-2).check("layer \(inner): \(entry.name)", values: model.parameters.values.pointer + entry.offset,
                                                  count: entry.count, analytic: Array(analytic[entry.offset..<entry.offset + entry.count]), loss: loss)
            }
        }
    }

    func testAForwardThroughALayerGivesThatLayersOutputOfTheWholeForward() throws {
        let model = try graph()
        var rng = SeededGenerator(seed: 5)
        model.parameters.initialize(using: &rng)
        model.reserve(maxBatch: 3)
        let input = FloatBuffer(rng.floats(3 * model.inputSize))
        model.forward(input.pointer, batch: 3)
        let whole = Array(UnsafeBufferPointer(start: model.output(ofLayer: 3), count: 3 * 48))
        let other = FloatBuffer(rng.floats(3 * model.inputSize))
        model.forward(other.pointer, batch: 3)   // another batch in between
        let partial = model.forward(input.pointer, batch: 3, through: 3)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: partial, count: 3 * 48)), whole)
    }
}
