import NN
import XCTest

/// The backward pass computes an output's gradient only where it reaches a parameter an optimizer trains:
/// a layer without weights reading the input (padding, Rescaling, augmentation), or a frozen one, is not
/// run backward and gets no gradient; a layer above a trained one is run and gets it. The parameter
/// gradients stay those of the whole backward pass (finite differences through padding and Rescaling).
final class GradientNeededTests: XCTestCase {
    /// An identity that records, per backward call, whether it was asked for its input's gradient.
    final class Spy: Layer {
        var kind: String { "spy" }
        var calls: [Bool] = []   // per backward: input gradient asked for
        private var size = 0
        func build(inputShape: [Int]) throws -> [Int] { size = inputShape.reduce(1, *); return inputShape }
        func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
            output.update(from: input, count: batch * size)
        }
        func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?, input: UnsafePointer<Float>,
                      output: UnsafePointer<Float>, batch: Int) {
            calls.append(inputGradient != nil)
            inputGradient?.update(from: outputGradient, count: batch * size)
        }
    }

    private func step(_ model: Sequential) {
        var rng = SeededGenerator(seed: 3)
        model.parameters.initialize(using: &rng)
        model.reserve(maxBatch: 2)
        let input = FloatBuffer(rng.floats(2 * model.inputSize)), gradient = FloatBuffer(rng.floats(2 * model.outputSize))
        model.forward(input.pointer, batch: 2)
        model.backward(input.pointer, outputGradient: gradient.pointer, batch: 2)
    }

    func testOnlyGradientsThatReachATrainedParameterAreComputed() throws {
        let conv = { Conv2D(filters: 2, kernelSize: (3, 3), padding: .same, gemm: testGEMM) }
        // A chain: spy, conv, spy, dense. The first spy reads the input below every weight: never run backward.
        let (first, second) = (Spy(), Spy())
        step(try Sequential(inputShape: [4, 4, 1], layers: [first, conv(), second, Flatten(), Dense(units: 3, gemm: testGEMM)]))
        XCTAssertEqual(first.calls, [])
        XCTAssertEqual(second.calls, [true])

        // A frozen convolution under the spy: its gradient reaches nothing trained, so it is not run backward either.
        let (above, overTrained) = (Spy(), Spy())
        step(try Sequential(inputShape: [4, 4, 1], layers: [conv(), above, Flatten(), Dense(units: 3, gemm: testGEMM)], frozen: [0]))
        XCTAssertEqual(above.calls, [])
        step(try Sequential(inputShape: [4, 4, 1], layers: [conv(), overTrained, Flatten(), Dense(units: 3, gemm: testGEMM)]))
        XCTAssertEqual(overTrained.calls, [true])

        // A graph: the input read by a spy and a convolution, added: the spy's branch is not needed, the add's is.
        let (branch, sum) = (Spy(), Spy())
        step(try Sequential(inputShape: [4, 4, 2], layers: [branch, conv(), Add(), sum, Flatten(), Dense(units: 3, gemm: testGEMM)],
                            inputs: [[-1], [-1], [0, 1], [2], [3], [4]]))
        XCTAssertEqual(branch.calls, [])
        XCTAssertEqual(sum.calls, [true])
    }

    /// Padding and Rescaling in front: every parameter's gradient against central differences.
    func testParameterGradientsBehindPaddingAndRescaling() throws {
        let model = try Sequential(inputShape: [4, 4, 1], layers: [
            Rescaling(scale: 0.5, offset: 0.1), ZeroPadding2D(top: 1, bottom: 0, left: 0, right: 1),
            Conv2D(filters: 2, kernelSize: (3, 3), strides: (2, 2), gemm: testGEMM), Flatten(), Dense(units: 3, gemm: testGEMM),
        ])
        GradientChecker().checkModel(model, seed: 4)
    }
}
