import NN
import XCTest

/// Subtract, Average, Maximum and Minimum: values against Keras's definitions, where a maximum's or minimum's
/// gradient goes (TensorFlow's `maximum(a, b)` gives it to `a` where `a >= b`, so a tie goes to the earlier
/// input), finite differences through a graph (inputs drawn apart, so no step of 1e-2 changes a winner), and the
/// one-line errors for inputs that do not fit.
final class ElementwiseMergeTests: XCTestCase {
    /// One merge with its inputs, output and gradients in buffers of one sample each.
    private struct Harness {
        let layer: ElementwiseMerge, inputs: [FloatBuffer], output: FloatBuffer, gradients: [FloatBuffer], upstream: FloatBuffer

        init(_ operation: ElementwiseMerge.Operation, _ inputs: [[Float]], upstream: [Float]) throws {
            layer = ElementwiseMerge(operation)
            XCTAssertEqual(try layer.build(inputShapes: inputs.map { [$0.count] }), [upstream.count])
            (self.inputs, self.upstream) = (inputs.map { FloatBuffer($0) }, FloatBuffer(upstream))
            output = FloatBuffer(count: upstream.count)
            gradients = inputs.map { _ in FloatBuffer(Array(repeating: .nan, count: upstream.count)) }
        }

        /// Forward, then `sum(output * upstream)` in Double.
        func loss() -> Double {
            let pointers = inputs.map { UnsafePointer($0.pointer) }
            pointers.withUnsafeBufferPointer { layer.forward(inputs: $0, output: output.pointer, batch: 1) }
            return (0..<upstream.count).reduce(0) { $0 + Double(output.pointer[$1]) * Double(upstream.pointer[$1]) }
        }

        /// Forward and backward: each input's gradient.
        func backward() -> [[Float]] {
            _ = loss()
            let pointers = inputs.map { UnsafePointer($0.pointer) }, targets: [UnsafeMutablePointer<Float>?] = gradients.map(\.pointer)
            pointers.withUnsafeBufferPointer { ins in
                targets.withUnsafeBufferPointer { layer.backward(outputGradient: upstream.pointer, inputGradients: $0, inputs: ins, output: output.pointer, batch: 1) }
            }
            return gradients.map(\.array)
        }
    }

    func testValuesAndWhereTheGradientGoes() throws {
        let a: [Float] = [1, -2, 3, 0.5], b: [Float] = [4, -2, -1, 0.5], c: [Float] = [2, 5, 3, -7], dy: [Float] = [1, 2, 3, 4]
        /// The output and each input's gradient.
        func run(_ operation: ElementwiseMerge.Operation, _ inputs: [[Float]]) throws -> ([Float], [[Float]]) {
            let h = try Harness(operation, inputs, upstream: dy)
            let gradients = h.backward()
            return (h.output.array, gradients)
        }
        let subtract = try run(.subtract, [a, b])
        XCTAssertEqual(subtract.0, [-3, 0, 4, 0])
        XCTAssertEqual(subtract.1, [dy, dy.map { -$0 }])
        let average = try run(.average, [a, b, c])
        XCTAssertEqual(average.0, [(1 + 4 + 2) / 3, (-2 - 2 + 5) / 3, (3 - 1 + 3) / 3, (0.5 + 0.5 - 7) / 3] as [Float])
        XCTAssertEqual(average.1, Array(repeating: dy.map { $0 / 3 }, count: 3))
        let maximum = try run(.maximum, [a, b, c])
        XCTAssertEqual(maximum.0, [4, 5, 3, 0.5])
        // Ties: -2 and -2 lose to 5; 3 (a) against 3 (c) goes to a; 0.5 (a) against 0.5 (b) goes to a.
        XCTAssertEqual(maximum.1, [[0, 0, 3, 4], [1, 0, 0, 0], [0, 2, 0, 0]])
        let minimum = try run(.minimum, [a, b, c])
        XCTAssertEqual(minimum.0, [1, -2, -1, -7])
        XCTAssertEqual(minimum.1, [[1, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 4]])
    }

    /// Each input's gradient against central differences: the values are drawn 0.05 apart, so no step of 1e-2 changes
    /// which input is the maximum or minimum.
    func testInputGradients() throws {
        for (k, operation) in ElementwiseMerge.Operation.allCases.enumerated() {
            var rng = SeededGenerator(seed: 600 + UInt64(k))
            let (inputCount, size) = (operation == .subtract ? 2 : 3, 24)
            let values = rng.distinctFloats(inputCount * size, spacing: 0.05, offset: -1.8)
            let h = try Harness(operation, (0..<inputCount).map { Array(values[$0 * size..<($0 + 1) * size]) }, upstream: rng.floats(size))
            let analytic = h.backward()
            for input in 0..<inputCount {
                GradientChecker().check("\(operation) input \(input)", values: h.inputs[input].pointer, count: size, analytic: analytic[input],
                                        loss: h.loss)
            }
            // Every input wins somewhere: the maximum's and minimum's gradients are not all one input's.
            XCTAssertTrue(analytic.allSatisfy { $0.contains { $0 != 0 } }, "\(operation)")
        }
    }

    /// The merges inside a model, fed by convolutions (a fan-in whose inputs' gradients reach parameters).
    func testGradientsThroughAGraph() throws {
        for (k, operation) in [ElementwiseMerge.Operation.subtract, .average].enumerated() {
            let conv = { Conv2D(filters: 3, kernelSize: (3, 3), padding: .same, gemm: testGEMM) }
            let model = try Sequential(inputShape: [4, 4, 2], layers: [conv(), conv(), conv(), ElementwiseMerge(operation), Flatten(),
                                                                       Dense(units: 3, gemm: testGEMM)],
                                       inputs: [[-1], [-1], [0], operation == .subtract ? [2, 1] : [0, 1, 2], [3], [4]])
            XCTAssertEqual(model.outputShapes[3], [4, 4, 3])
            GradientChecker().checkModel(model, seed: 190 + UInt64(k))
        }
    }

    func testKerasNamesAndErrors() throws {
        XCTAssertEqual(ElementwiseMerge.kerasClassNames, ["Subtract", "Average", "Maximum", "Minimum"])
        XCTAssertEqual(ElementwiseMerge.Operation.allCases.map { ElementwiseMerge($0).kind }, ["subtract", "average", "maximum", "minimum"])
        XCTAssertThrowsError(try ElementwiseMerge(.subtract).build(inputShapes: [[2], [2], [2]])) {
            XCTAssertEqual("\($0)", "Subtract takes exactly 2 inputs, got 3")
        }
        XCTAssertThrowsError(try ElementwiseMerge(.maximum).build(inputShapes: [[2]])) { XCTAssertEqual("\($0)", "Maximum takes at least 2 inputs, got 1") }
        XCTAssertThrowsError(try ElementwiseMerge(.average).build(inputShapes: [[2, 2, 3], [1, 1, 3]])) {
            XCTAssertEqual("\($0)", "Average inputs of shapes [2, 2, 3], [1, 1, 3] differ; supported: inputs of one shape")
        }
    }
}
