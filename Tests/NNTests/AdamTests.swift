import Foundation
import NN
import XCTest

/// Adam against Keras's update written out in Double:
/// `lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)`, `m += (g - m)(1 - b1)`, `v += (g^2 - v)(1 - b2)`,
/// `p -= lr_t * m / (sqrt(v) + eps)`.
final class AdamTests: XCTestCase {
    private struct ReferenceAdam {
        let lr: Double, b1: Double, b2: Double, eps: Double
        var m: [Double], v: [Double], t = 0
        init(count: Int, lr: Double = 0.001, b1: Double = 0.9, b2: Double = 0.999, eps: Double = 1e-7) {
            (self.lr, self.b1, self.b2, self.eps) = (lr, b1, b2, eps)
            m = Array(repeating: 0, count: count)
            v = Array(repeating: 0, count: count)
        }
        mutating func step(_ p: inout [Double], _ g: [Double]) {
            t += 1
            let lrT = lr * (1 - pow(b2, Double(t))).squareRoot() / (1 - pow(b1, Double(t)))
            for i in p.indices {
                m[i] += (g[i] - m[i]) * (1 - b1)
                v[i] += (g[i] * g[i] - v[i]) * (1 - b2)
                p[i] -= lrT * m[i] / (v[i].squareRoot() + eps)
            }
        }
    }

    /// A 1-layer Sequential with Dense(2, gemm: testGEMM) on 2 inputs: kernel [2, 2] + bias [2] = 6 parameters.
    private func tinyStore() throws -> ParameterStore {
        let model = try Sequential(inputShape: [2], layers: [Dense(units: 2, gemm: testGEMM)])
        XCTAssertEqual(model.parameters.count, 6)
        model.parameters.values.fill([0.5, -1.5, 0.25, 2, 0, -0.75])
        return model.parameters
    }

    // Gradients include 0 (no move), 1e-6 (where sqrt(v) ~ 3e-8 is below eps = 1e-7, so eps's
    // placement outside the square root matters) and large values.
    private let gradients: [[Float]] = [
        [0.3, -2.0, 1e-6, 0, 5, -0.01],
        [-0.1, -1.0, 2e-6, 0.5, 5, 0.02],
    ]

    private func run(steps: Int, adam: Adam, reference: ReferenceAdam, file: StaticString = #filePath, line: UInt = #line) throws {
        let store = try tinyStore()
        var expected = store.values.array.map(Double.init)
        var reference = reference
        let before = expected
        for s in 0..<steps {
            store.gradients.fill(gradients[s])
            adam.update(store)
            reference.step(&expected, gradients[s].map(Double.init))
            XCTAssertEqual(adam.iterations, s + 1, file: file, line: line)
            assertClose(store.values.array, expected, relative: 0, absolute: 1e-6, "after step \(s + 1)", file: file, line: line)
            if s == 0 {
                XCTAssertEqual(store.values.pointer[3], 2, "a zero gradient (m = 0) moves nothing", file: file, line: line)
            }
        }
        // The comparison is meaningful: every parameter with a non-zero gradient moved by much more than 1e-6.
        for i in 0..<6 where gradients[0][i] != 0 || (steps > 1 && gradients[1][i] != 0) {
            XCTAssertGreaterThan(abs(expected[i] - before[i]), 1e-4, "parameter \(i)", file: file, line: line)
        }
    }

    func testOneStepWithKerasDefaults() throws {
        try run(steps: 1, adam: Adam(), reference: ReferenceAdam(count: 6))
    }

    func testTwoStepsWithKerasDefaults() throws {
        try run(steps: 2, adam: Adam(), reference: ReferenceAdam(count: 6))
    }

    func testTwoStepsWithOtherHyperparameters() throws {
        try run(steps: 2, adam: Adam(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-5),
                reference: ReferenceAdam(count: 6, lr: 0.01, b1: 0.8, b2: 0.99, eps: 1e-5))
    }

    func testFirstStepMovesEachParameterByAboutTheLearningRate() throws {
        // Bias-corrected Adam's first step is lr * g / (|g| + eps / sqrt(1 - b2)) ~ lr * sign(g) for
        // |g| >> eps: an independent sanity check of the bias correction.
        let store = try tinyStore()
        let before = store.values.array
        store.gradients.fill([0.3, -2.0, 5, 5, -0.01, 100])
        Adam().update(store)
        let moves = zip(store.values.array, before).map { Double($0 - $1) }
        assertClose(moves, [-1e-3, 1e-3, -1e-3, -1e-3, 1e-3, -1e-3], relative: 1e-3, absolute: 0, "first-step moves")
    }

    func testVectorLanesAndTailMatchTheReference() throws {
        // Dense(5) on 6 inputs: 35 parameters, two 16-wide vectors and a 3-wide scalar tail.
        let model = try Sequential(inputShape: [6], layers: [Dense(units: 5, gemm: testGEMM)])
        let store = model.parameters
        var rng = SeededGenerator(seed: 5)
        store.values.fill(rng.floats(store.count))
        var expected = store.values.array.map(Double.init)
        var reference = ReferenceAdam(count: store.count)
        let adam = Adam()
        for _ in 0..<3 {
            let gradient = rng.floats(store.count, in: -2, 2)
            store.gradients.fill(gradient)
            adam.update(store)
            reference.step(&expected, gradient.map(Double.init))
        }
        assertClose(store.values.array.map(Double.init), expected, relative: 0, absolute: 1e-6, "35 parameters after 3 steps")
    }

    func testDefaultsAreKeras() {
        let adam = Adam()
        XCTAssertEqual(adam.schedule.rate(0), 0.001)
        XCTAssertEqual(adam.weightDecay, 0)
        XCTAssertEqual(adam.beta1, 0.9)
        XCTAssertEqual(adam.beta2, 0.999)
        XCTAssertEqual(adam.epsilon, 1e-7)
    }
}
