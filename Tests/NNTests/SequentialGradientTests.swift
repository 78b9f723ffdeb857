import NN
import XCTest

/// The whole stack conv -> leaky -> pool -> conv -> flatten -> dense, checked end to end:
/// every parameter's gradient of the mean sparse categorical cross-entropy against central
/// differences of `Sequential.forward` + the loss.
final class SequentialGradientTests: XCTestCase {
    func testParameterGradientsThroughCrossEntropy() throws {
        let batch = 2, classes = 4
        let model = try Sequential(inputShape: [5, 4, 2], layers: [
            Conv2D(filters: 3, kernelSize: (3, 3), strides: (1, 1), padding: .same, gemm: testGEMM),
            LeakyReLU(alpha: 0.2),
            MaxPooling2D(poolSize: (2, 2), strides: (1, 1), padding: .same),
            Conv2D(filters: 4, kernelSize: (3, 2), strides: (2, 2), padding: .valid, gemm: testGEMM),
            Flatten(),
            Dense(units: classes, gemm: testGEMM),
        ])
        XCTAssertEqual(model.outputShapes, [[5, 4, 3], [5, 4, 3], [5, 4, 3], [2, 2, 4], [16], [4]])
        var rng = SeededGenerator(seed: 62)
        model.parameters.initialize(using: &rng)
        // Non-zero biases, so their gradients are exercised through the whole stack.
        for entry in model.parameters.entries where entry.shape.count == 1 {
            for i in 0..<entry.count { model.parameters.values.pointer[entry.offset + i] = rng.nextFloat(in: -0.3, 0.3) }
        }
        model.reserve(maxBatch: batch)
        let input = FloatBuffer(rng.floats(batch * model.inputSize))
        let labels: [Int32] = [2, 0]
        let logitGradient = FloatBuffer(count: batch * classes)
        let loss = SparseCategoricalCrossentropy()
        let scale = 1 / Float(batch)
        let step: Float = 2.5e-4

        func meanLoss() -> Double {
            let logits = model.forward(input.pointer, batch: batch)
            return labels.withUnsafeBufferPointer {
                loss(logits: logits, labels: $0.baseAddress!, rows: batch, classes: classes, gradient: nil, scale: 1)
            } / Double(batch)
        }

        try assertNoKinkWithinReach(model, input: input, batch: batch, margin: 4 * step)

        model.parameters.zeroGradients()
        let logits = model.forward(input.pointer, batch: batch)
        _ = labels.withUnsafeBufferPointer {
            loss(logits: logits, labels: $0.baseAddress!, rows: batch, classes: classes,
                 gradient: logitGradient.pointer, scale: scale)
        }
        model.backward(input.pointer, outputGradient: logitGradient.pointer, batch: batch)
        let analytic = model.parameters.gradients.array

        // The loss is smooth except at LeakyReLU kinks and pooling ties, which the check above keeps
        // out of reach of the step; the loss is O(1) and its float32 rounding ~1e-7, which over
        // 2h = 5e-4 stays ~2e-4, under the 1e-3 absolute tolerance.
        let checker = GradientChecker(step: step)
        for entry in model.parameters.entries {
            checker.check(entry.name, values: model.parameters.values.pointer + entry.offset, count: entry.count,
                          analytic: Array(analytic[entry.offset..<entry.offset + entry.count]), loss: meanLoss)
        }
    }

    /// A step h on one first-layer weight moves each first-layer pre-activation by at most
    /// h * max|input| <= h (inputs in [-1, 1]; h for a bias), and nothing else before the pooling.
    /// So no step crosses a LeakyReLU kink if every pre-activation is >= `margin` from 0, and no
    /// pooling winner changes if, in every window, the top two values are >= `margin` apart
    /// (margin = 4h covers both values moving in opposite directions, with room to spare).
    /// Otherwise the finite differences would be wrong for a reason that is not a bug.
    private func assertNoKinkWithinReach(_ model: Sequential, input: FloatBuffer, batch: Int, margin: Float,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        let shape = model.outputShapes[0]
        let (height, width, channels) = (shape[0], shape[1], shape[2])
        let pre = FloatBuffer(count: batch * elementCount(shape)), post = FloatBuffer(count: pre.count)
        model.layers[0].forward(input: input.pointer, output: pre.pointer, batch: batch)
        model.layers[1].forward(input: pre.pointer, output: post.pointer, batch: batch)
        let nearest = pre.array.map(abs).min()!
        XCTAssertGreaterThan(nearest, margin, "a pre-activation sits at a LeakyReLU kink; pick another seed",
                             file: file, line: line)
        // Pooling 2x2, stride 1, SAME: windows rows oh...oh+1, columns ow...ow+1, clipped at the end.
        var smallestGap = Float.infinity
        for n in 0..<batch {
            for oh in 0..<height {
                for ow in 0..<width {
                    for c in 0..<channels {
                        var window: [Float] = []
                        for h in oh..<min(oh + 2, height) {
                            for w in ow..<min(ow + 2, width) {
                                window.append(post.pointer[((n * height + h) * width + w) * channels + c])
                            }
                        }
                        window.sort(by: >)
                        if window.count > 1 { smallestGap = min(smallestGap, window[0] - window[1]) }
                    }
                }
            }
        }
        XCTAssertGreaterThan(smallestGap, margin, "a pooling window has a near-tie; pick another seed",
                             file: file, line: line)
    }

    func testBackwardAccumulatesIntoGradients() throws {
        // Two backward passes without zeroing give twice the gradient: the store's gradients are
        // sums, which the data-parallel step relies on.
        let model = try Sequential(inputShape: [4, 4, 1], layers: [
            Conv2D(filters: 2, kernelSize: (3, 3), padding: .same, gemm: testGEMM), Flatten(), Dense(units: 3, gemm: testGEMM),
        ])
        var rng = SeededGenerator(seed: 61)
        model.parameters.initialize(using: &rng)
        model.reserve(maxBatch: 2)
        let input = FloatBuffer(rng.floats(32))
        let upstream = FloatBuffer(rng.floats(6))
        model.parameters.zeroGradients()
        model.forward(input.pointer, batch: 2)
        model.backward(input.pointer, outputGradient: upstream.pointer, batch: 2)
        let once = model.parameters.gradients.array
        model.forward(input.pointer, batch: 2)
        model.backward(input.pointer, outputGradient: upstream.pointer, batch: 2)
        let twice = model.parameters.gradients.array
        XCTAssertGreaterThan(once.map(abs).max()!, 0.01)
        assertClose(twice, once.map { 2 * Double($0) }, relative: 1e-6, absolute: 1e-7, "accumulated gradients")
    }

    func testSmallerBatchAfterReserveUsesOnlyItsRows() throws {
        // A final partial batch: forward of 1 sample after reserving 3 gives that sample's logits.
        let model = try Sequential(inputShape: [4, 4, 1], layers: [
            Conv2D(filters: 2, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: testGEMM),
            MaxPooling2D(poolSize: (2, 2), strides: (1, 1), padding: .same), Flatten(), Dense(units: 3, gemm: testGEMM),
        ])
        var rng = SeededGenerator(seed: 62)
        model.parameters.initialize(using: &rng)
        model.reserve(maxBatch: 3)
        let input = FloatBuffer(rng.floats(48))
        let all = Array(UnsafeBufferPointer(start: model.forward(input.pointer, batch: 3), count: 9))
        let single = FloatBuffer(Array(input.array[16..<32]))
        let one = Array(UnsafeBufferPointer(start: model.forward(single.pointer, batch: 1), count: 3))
        assertClose(one, all[3..<6].map(Double.init), relative: 1e-6, absolute: 1e-6, "sample 1 alone")
    }
}
