import NN
import XCTest

/// Finite-difference checks of a graph's backward pass: a layer read by several others (fan-out:
/// the gradients summed), merges of several inputs (fan-in: Add, Multiply, Concatenate), an input
/// read twice by one merge, and a `[1, 1, C]` broadcast. The loss is a fixed projection of the
/// logits, and no layer has a kink, so the loss is smooth in every parameter.
final class GraphGradientTests: XCTestCase {
    func testFanOutAndFanIn() throws {
        let conv = { (filters: Int, size: Int) in Conv2D(filters: filters, kernelSize: (size, size), padding: .same, gemm: testGEMM) }
        let model = try Sequential(inputShape: [4, 4, 2], layers: [
            conv(3, 3),            // 0: read by 1, 2 and the Add
            conv(3, 1),            // 1: read by the Add and the Multiply
            conv(3, 3),            // 2
            Add(),                 // 3: 1 + 2 + 0
            Multiply(),            // 4: 3 * 1
            Concatenate(),         // 5: [4 | 0] -> 6 channels
            Multiply(),            // 6: 5 * 5 (one input read twice)
            Flatten(),
            Dense(units: 3, gemm: testGEMM),
        ], inputs: [[-1], [0], [0], [1, 2, 0], [3, 1], [4, 0], [5, 5], [6], [7]])
        XCTAssertEqual(model.outputShapes[5], [4, 4, 6])
        GradientChecker().checkModel(model, seed: 181)
    }

    func testChannelBroadcast() throws {
        let model = try Sequential(inputShape: [4, 4, 2], layers: [
            Conv2D(filters: 3, kernelSize: (3, 3), padding: .same, gemm: testGEMM),   // 0: [4, 4, 3]
            Conv2D(filters: 3, kernelSize: (4, 4), padding: .valid, gemm: testGEMM),  // 1: [1, 1, 3]
            Multiply(),                                                               // 2: 0 * 1, broadcast
            Add(),                                                                    // 3: 1 + 2, broadcast first
            Flatten(),
            Dense(units: 2, gemm: testGEMM),
        ], inputs: [[-1], [-1], [0, 1], [1, 2], [3], [4]])
        XCTAssertEqual(model.outputShapes[1], [1, 1, 3])
        XCTAssertEqual(model.outputShapes[3], [4, 4, 3])
        GradientChecker().checkModel(model, seed: 182)
    }

    /// Multiply's squeeze-and-excitation loops ([x, scale]) give the bits of its general loop ([scale, x]): the same
    /// products, and the scale's gradient summed over the pixels in the same order.
    func testExciteLoopsGiveTheGeneralLoopsBits() throws {
        var rng = SeededGenerator(seed: 183)
        let (batch, pixels, c) = (3, 5 * 4, 7)
        let x = rng.floats(batch * pixels * c), scale = rng.floats(batch * c), dy = rng.floats(batch * pixels * c)
        func run(_ order: [Int]) throws -> (output: [Float], dx: [Float], dscale: [Float]) {
            let layer = Multiply()
            let shapes = [[5, 4, c], [1, 1, c]]
            _ = try layer.build(inputShapes: order.map { shapes[$0] })
            var output = [Float](repeating: 0, count: x.count), dx = output, dscale = [Float](repeating: 9, count: scale.count)
            x.withUnsafeBufferPointer { xp in scale.withUnsafeBufferPointer { sp in
                let sources = [xp.baseAddress!, sp.baseAddress!]
                let inputs = order.map { sources[$0] }
                inputs.withUnsafeBufferPointer { inputs in
                    output.withUnsafeMutableBufferPointer { layer.forward(inputs: inputs, output: $0.baseAddress!, batch: batch) }
                    dx.withUnsafeMutableBufferPointer { dxp in dscale.withUnsafeMutableBufferPointer { dsp in
                        let targets: [UnsafeMutablePointer<Float>?] = [dxp.baseAddress!, dsp.baseAddress!]
                        order.map { targets[$0] }.withUnsafeBufferPointer { gradients in
                            dy.withUnsafeBufferPointer { layer.backward(outputGradient: $0.baseAddress!, inputGradients: gradients, inputs: inputs,
                                                                        output: $0.baseAddress!, batch: batch) }
                        }
                    } }
                }
            } }
            return (output, dx, dscale)
        }
        let excite = try run([0, 1]), general = try run([1, 0])
        XCTAssertEqual(excite.output, general.output)
        XCTAssertEqual(excite.dx, general.dx)
        XCTAssertEqual(excite.dscale, general.dscale)
        XCTAssertEqual(excite.output[8], x[8] * scale[1])
    }

    /// The merges' forward values by hand, broadcast included.
    func testMergeForwardValues() throws {
        let model = try Sequential(inputShape: [1, 2, 2], layers: [Add(), Multiply(), Concatenate()],
                                   inputs: [[-1, -1], [0, -1], [1, 0]])
        model.reserve(maxBatch: 1)
        let input = FloatBuffer([1, 2, -3, 0.5])
        let output = Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 1), count: model.outputSize))
        // add = 2x = [2, 4, -6, 1]; multiply = 2x * x = [2, 8, 18, 0.5]; concatenate per position: [mul, add].
        XCTAssertEqual(output, [2, 8, 2, 4, 18, 0.5, -6, 1])
        XCTAssertEqual(model.outputShapes.last, [1, 2, 4])
    }

    /// A chain given as a graph is the chain: the same outputs and gradients bit for bit.
    func testChainAsGraphIsTheChain() throws {
        func make() throws -> [Layer] {
            [Conv2D(filters: 3, kernelSize: (3, 3), padding: .same, gemm: testGEMM), LeakyReLU(alpha: 0.2), Flatten(), Dense(units: 4, gemm: testGEMM)]
        }
        let chain = try Sequential(inputShape: [4, 4, 1], layers: try make())
        let graph = try Sequential(inputShape: [4, 4, 1], layers: try make(), inputs: [[-1], [0], [1], [2]])
        var rngs = (SeededGenerator(seed: 5), SeededGenerator(seed: 5))
        chain.parameters.initialize(using: &rngs.0)
        graph.parameters.initialize(using: &rngs.1)
        var rng = SeededGenerator(seed: 6)
        let input = FloatBuffer(rng.floats(2 * 16)), gradient = FloatBuffer(rng.floats(2 * 4))
        for model in [chain, graph] {
            model.reserve(maxBatch: 2)
            model.parameters.zeroGradients()
            model.forward(input.pointer, batch: 2)
            model.backward(input.pointer, outputGradient: gradient.pointer, batch: 2)
        }
        XCTAssertEqual(chain.parameters.gradients.array, graph.parameters.gradients.array)
    }

    func testMergeShapesThatDoNotFitAreRefused() {
        let cases: [(layers: [Layer], inputs: [[Int]], message: String)] = [
            ([Add()], [[-1]], "Add takes at least 2 inputs, got 1"),
            ([Dense(units: 2, gemm: testGEMM), Add()], [[-1], [0, -1]], "Add inputs of shapes [2], [3] do not match"),
            ([Dense(units: 2, gemm: testGEMM), Concatenate()], [[-1], [0, -1]], ""),
            ([Dense(units: 2, gemm: testGEMM), Dense(units: 2, gemm: testGEMM)], [[-1], [-1]], "its output reaches nothing"),
            ([Dense(units: 2, gemm: testGEMM), Dense(units: 2, gemm: testGEMM)], [[-1], [0, -1]], "takes one input, but is given 2"),
        ]
        for (layers, inputs, message) in cases {
            do {
                let model = try Sequential(inputShape: [3], layers: layers, inputs: inputs)
                XCTAssertTrue(message.isEmpty, "built \(model.outputShapes), expected: \(message)")
            } catch {
                XCTAssertFalse(message.isEmpty, "\(error)")
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
        XCTAssertThrowsError(try Sequential(inputShape: [2, 2, 3], layers: [Concatenate(axis: 1)], inputs: [[-1, -1]])) {
            XCTAssertTrue("\($0)".contains("option axis is 1"), "\($0)")
        }
    }
}
