import NN
import XCTest

/// The gradient checker must be able to fail: a layer with a planted backward bug is caught.
final class GradientCheckerSelfTests: XCTestCase {
    /// `out[i] = w[i] * x[i]` with a switchable backward bug.
    final class ToyScale: Layer {
        enum Bug { case none, inputGradientFivePercentOffInOneEntry, overwritesParameterGradient, addsIntoInputGradient }
        let bug: Bug
        var kind: String { "toy_scale" }
        private var size = 0
        private var w: UnsafeMutablePointer<Float>!, dw: UnsafeMutablePointer<Float>!
        init(bug: Bug) { self.bug = bug }
        func build(inputShape: [Int]) throws -> [Int] { size = inputShape.reduce(1, *); return inputShape }
        var parameterShapes: [(name: String, shape: [Int])] { [("w", [size])] }
        func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
            (w, dw) = (parameters[0], gradients[0])
        }
        func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
            for n in 0..<batch { for i in 0..<size { output[n * size + i] = w[i] * input[n * size + i] } }
        }
        func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                      input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
            if bug == .overwritesParameterGradient { dw.update(repeating: 0, count: size) }
            for n in 0..<batch {
                for i in 0..<size {
                    let j = n * size + i
                    dw[i] += input[j] * outputGradient[j]
                    let dx = w[i] * outputGradient[j]
                    if bug == .addsIntoInputGradient { inputGradient?[j] += dx } else { inputGradient?[j] = dx }
                }
            }
            if bug == .inputGradientFivePercentOffInOneEntry { inputGradient?[3] *= 1.05 }
        }
    }

    private func mismatchCount(_ bug: ToyScale.Bug) throws -> Int {
        let checker = GradientChecker()
        // Inputs and weights away from zero so every entry is a real test of the 5% bug.
        var rng = SeededGenerator(seed: 3)
        let h = try LayerHarness(ToyScale(bug: bug), inputShape: [2, 3, 2], batch: 2,
                                 input: rng.floatsAwayFromZero(24, margin: 0.5), seed: 4)
        h.parameters[0].fill(rng.floatsAwayFromZero(12, margin: 0.5))
        h.upstream.fill(rng.floatsAwayFromZero(24, margin: 0.5))
        let analytic = h.analyticGradients()
        let input = checker.mismatches(analytic: analytic.input,
                                       numeric: checker.numericGradient(of: h.input.pointer, count: h.input.count, loss: h.loss))
        let parameter = checker.mismatches(analytic: analytic.parameters[0],
                                           numeric: checker.numericGradient(of: h.parameters[0].pointer, count: 12, loss: h.loss))
        return input.count + parameter.count
    }

    func testCorrectLayerPasses() throws {
        XCTAssertEqual(try mismatchCount(.none), 0)
    }

    func testFivePercentErrorInOneEntryIsCaught() throws {
        XCTAssertEqual(try mismatchCount(.inputGradientFivePercentOffInOneEntry), 1)
    }

    func testOverwritingParameterGradientsIsCaught() throws {
        XCTAssertEqual(try mismatchCount(.overwritesParameterGradient), 12)
    }

    func testAddingIntoInputGradientIsCaught() throws {
        XCTAssertEqual(try mismatchCount(.addsIntoInputGradient), 24)
    }
}
