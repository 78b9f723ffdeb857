import NN
import XCTest

// Shared helpers for the NN tests, in the spirit of Caffe's `GradientChecker`: every layer's
// backward pass is checked against central finite differences of its own forward pass.

// MARK: - Random inputs

extension SeededGenerator {
    /// `count` floats uniform in `[low, high)`.
    mutating func floats(_ count: Int, in low: Float = -1, _ high: Float = 1) -> [Float] {
        (0..<count).map { _ in nextFloat(in: low, high) }
    }

    /// `count` floats with `|x|` in `[margin, 1)` and a random sign: keeps every value away
    /// from an activation's kink at zero, so a finite-difference step never crosses it.
    mutating func floatsAwayFromZero(_ count: Int, margin: Float) -> [Float] {
        (0..<count).map { _ in
            let magnitude = nextFloat(in: margin, 1)
            return next() & 1 == 0 ? magnitude : -magnitude
        }
    }

    /// `count` floats uniform in `[low, high)`, each at least `margin` from every point of `kinks`
    /// (redrawn until it is): a piecewise-linear layer's finite-difference step never crosses a kink.
    mutating func floats(_ count: Int, in low: Float, _ high: Float, awayFrom kinks: [Float], margin: Float) -> [Float] {
        (0..<count).map { _ in
            while true {
                let x = nextFloat(in: low, high)
                if kinks.allSatisfy({ abs(x - $0) >= margin }) { return x }
            }
        }
    }

    /// `count` distinct floats `spacing` apart, shuffled and shifted by `offset`: max pooling
    /// has no ties and no winner can change under a step smaller than `spacing / 2`.
    mutating func distinctFloats(_ count: Int, spacing: Float, offset: Float) -> [Float] {
        var values = (0..<count).map { Float($0) * spacing + offset }
        values.shuffle(using: &self)
        return values
    }
}

extension FloatBuffer {
    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        for (i, value) in values.enumerated() { pointer[i] = value }
    }

    func fill(_ values: [Float]) {
        precondition(values.count == count)
        for (i, value) in values.enumerated() { pointer[i] = value }
    }
}

func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

// MARK: - Tolerances

/// `|actual - expected| <= absolute + relative * max(|actual|, |expected|)`.
func isClose(_ actual: Double, _ expected: Double, relative: Double, absolute: Double) -> Bool {
    abs(actual - expected) <= absolute + relative * max(abs(actual), abs(expected))
}

/// Elementwise closeness with a readable failure message naming the first bad indices.
func assertClose(
    _ actual: [Double], _ expected: [Double], relative: Double, absolute: Double,
    _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    let bad = zip(actual, expected).enumerated().filter { !isClose($0.element.0, $0.element.1, relative: relative, absolute: absolute) }
    XCTAssert(bad.isEmpty, "\(what): \(bad.count) of \(actual.count) differ, e.g. "
              + bad.prefix(5).map { "[\($0.offset)] got \($0.element.0) expected \($0.element.1)" }.joined(separator: "; "),
              file: file, line: line)
}

func assertClose(
    _ actual: [Float], _ expected: [Double], relative: Double, absolute: Double,
    _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
    assertClose(actual.map(Double.init), expected, relative: relative, absolute: absolute, what, file: file, line: line)
}

// MARK: - One layer, driven through the Layer protocol

/// Owns everything a single layer needs: input, output, a fixed random upstream gradient,
/// parameter and gradient buffers (bound to the layer), and an input-gradient buffer.
/// The scalar under test is `loss = sum(output * upstream)`, so `dLoss/dOutput = upstream`.
final class LayerHarness {
    let layer: Layer
    let batch: Int
    let inputShape: [Int], outputShape: [Int]
    let input: FloatBuffer            // [batch, inputShape]
    let output: FloatBuffer           // [batch, outputShape]
    let upstream: FloatBuffer         // [batch, outputShape]
    let inputGradient: FloatBuffer    // [batch, inputShape]
    let parameterNames: [String]
    let parameters: [FloatBuffer]     // one per parameterShapes entry
    let gradients: [FloatBuffer]      // same shapes

    /// Builds and binds `layer`; parameters are uniform in [-1, 1) (biases too, so they matter),
    /// inputs come from `input` or are uniform in [-1, 1).
    init(_ layer: Layer, inputShape: [Int], batch: Int, input: [Float]? = nil, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        self.layer = layer
        self.batch = batch
        self.inputShape = inputShape
        outputShape = try layer.build(inputShape: inputShape)
        let inputCount = batch * elementCount(inputShape), outputCount = batch * elementCount(outputShape)
        self.input = FloatBuffer(input ?? rng.floats(inputCount))
        precondition(self.input.count == inputCount, "input has \(self.input.count) values, expected \(inputCount)")
        output = FloatBuffer(count: outputCount)
        upstream = FloatBuffer(rng.floats(outputCount))
        inputGradient = FloatBuffer(count: inputCount)
        parameterNames = layer.parameterShapes.map(\.name)
        parameters = layer.parameterShapes.map { FloatBuffer(rng.floats(elementCount($0.shape))) }
        gradients = layer.parameterShapes.map { FloatBuffer(count: elementCount($0.shape)) }
        layer.bind(parameters: parameters.map(\.pointer), gradients: gradients.map(\.pointer))
        layer.reserve(maxBatch: batch)
    }

    /// Forward, then `sum(output * upstream)` accumulated in Double.
    func loss() -> Double {
        layer.forward(input: input.pointer, output: output.pointer, batch: batch)
        var total = 0.0
        for i in 0..<output.count { total += Double(output.pointer[i]) * Double(upstream.pointer[i]) }
        return total
    }

    /// The layer's analytic gradients of `loss()`. Parameter gradients are pre-filled with
    /// `gradientSentinel` and the sentinel is subtracted afterwards, so a layer that overwrites
    /// instead of adding (`+=`) fails; the input gradient is pre-filled with `inputSentinel`,
    /// so a layer that adds into it instead of overwriting fails too.
    func analyticGradients(gradientSentinel: Float = 0.25, inputSentinel: Float = 1000)
        -> (input: [Float], parameters: [[Float]])
    {
        for g in gradients { g.pointer.update(repeating: gradientSentinel, count: g.count) }
        inputGradient.pointer.update(repeating: inputSentinel, count: inputGradient.count)
        _ = loss()
        layer.backward(outputGradient: upstream.pointer, inputGradient: inputGradient.pointer,
                       input: input.pointer, output: output.pointer, batch: batch)
        return (inputGradient.array, gradients.map { $0.array.map { $0 - gradientSentinel } })
    }
}

// MARK: - The checker

/// Central differences `(f(x + h) - f(x - h)) / (x+h - (x-h))` of a Double-accumulated scalar,
/// one coordinate at a time, compared with an analytic gradient.
///
/// Tolerance, `|analytic - numeric| <= 1e-3 + 1e-2 * max(|analytic|, |numeric|)`:
/// - The layers are piecewise linear (convolution, dense, max pooling, (leaky) ReLU, flatten)
///   and the tests keep every input away from kinks and ties by more than the step, so the
///   central difference has no truncation error at all; what is left is float32 rounding in
///   the forward pass: about 6e-8 relative on each of at most a few hundred output terms of
///   magnitude <= ~3, i.e. a loss error around 1e-6, which over 2h = 2e-2 is ~1e-4 — an
///   order of magnitude under 1e-3.
/// - A real bug (a wrong im2col offset, a padding off by one, a swapped stride axis, a
///   dropped batch sample, `=` instead of `+=`) moves some gradient entry by a sizable
///   fraction of a typical entry (0.1 to 3 here), i.e. by 1e-2 or more: 10x above tolerance.
///   `GradientCheckerSelfTests` shows a 5% error in one entry is caught.
struct GradientChecker {
    var step: Float = 1e-2
    var relativeTolerance = 1e-2
    var absoluteTolerance = 1e-3

    struct Mismatch: CustomStringConvertible {
        let index: Int, analytic: Double, numeric: Double
        var description: String { "[\(index)] analytic \(analytic) numeric \(numeric)" }
    }

    /// Numeric gradient of `loss` with respect to `values[0..<count]` (restored afterwards).
    func numericGradient(of values: UnsafeMutablePointer<Float>, count: Int, loss: () -> Double) -> [Double] {
        (0..<count).map { i in
            let x = values[i]
            let up = x + step, down = x - step
            values[i] = up
            let plus = loss()
            values[i] = down
            let minus = loss()
            values[i] = x
            return (plus - minus) / (Double(up) - Double(down))
        }
    }

    func mismatches(analytic: [Float], numeric: [Double]) -> [Mismatch] {
        precondition(analytic.count == numeric.count)
        return zip(analytic, numeric).enumerated().compactMap { i, pair in
            let a = Double(pair.0), n = pair.1
            return isClose(a, n, relative: relativeTolerance, absolute: absoluteTolerance)
                ? nil : Mismatch(index: i, analytic: a, numeric: n)
        }
    }

    /// Checks one gradient; also requires the gradient to be non-trivial, so a test whose
    /// setup makes every derivative zero cannot pass vacuously.
    func check(
        _ what: String, values: UnsafeMutablePointer<Float>, count: Int, analytic: [Float], loss: () -> Double,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let numeric = numericGradient(of: values, count: count, loss: loss)
        let bad = mismatches(analytic: analytic, numeric: numeric)
        XCTAssert(bad.isEmpty, "\(what): \(bad.count) of \(count) entries differ, e.g. "
                  + bad.prefix(6).map(\.description).joined(separator: "; "), file: file, line: line)
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 10 * absoluteTolerance,
                             "\(what): every derivative is ~0, the check would be vacuous", file: file, line: line)
    }

    /// Every parameter's analytic gradient of `sum(logits * projection)` through a whole model (a graph: fan-out, merges)
    /// against central differences: weights drawn from `seed`, biases and other vectors in [-0.3, 0.3] so none is zero.
    func checkModel(_ model: Sequential, seed: UInt64, batch: Int = 2, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        model.parameters.initialize(using: &rng)
        for entry in model.parameters.entries where entry.shape.count == 1 {
            for i in 0..<entry.count { model.parameters.values.pointer[entry.offset + i] = rng.nextFloat(in: -0.3, 0.3) }
        }
        model.reserve(maxBatch: batch)
        let input = FloatBuffer(rng.floats(batch * model.inputSize))
        let projection = FloatBuffer(rng.floats(batch * model.outputSize))
        func loss() -> Double {
            let logits = model.forward(input.pointer, batch: batch)
            return (0..<projection.count).reduce(0) { $0 + Double(logits[$1]) * Double(projection.pointer[$1]) }
        }
        model.parameters.zeroGradients()
        model.forward(input.pointer, batch: batch)
        model.backward(input.pointer, outputGradient: projection.pointer, batch: batch)
        let analytic = model.parameters.gradients.array
        for entry in model.parameters.entries {
            check(entry.name, values: model.parameters.values.pointer + entry.offset, count: entry.count,
                  analytic: Array(analytic[entry.offset..<entry.offset + entry.count]), loss: loss, file: file, line: line)
        }
    }

    /// Checks the input gradient and every parameter gradient of the harnessed layer. Parameters in
    /// `untrained` (BatchNormalization's moving statistics) must get no gradient and must not change
    /// the training-mode output at all.
    func checkLayer(_ h: LayerHarness, _ what: String, untrained: Set<String> = [], file: StaticString = #filePath, line: UInt = #line) {
        let analytic = h.analyticGradients()
        check("\(what) input gradient", values: h.input.pointer, count: h.input.count,
              analytic: analytic.input, loss: h.loss, file: file, line: line)
        for (k, name) in h.parameterNames.enumerated() where untrained.contains(name) {
            let numeric = numericGradient(of: h.parameters[k].pointer, count: h.parameters[k].count, loss: h.loss)
            XCTAssertEqual(analytic.parameters[k], Array(repeating: 0, count: h.parameters[k].count),
                           "\(what) \(name): no gradient", file: file, line: line)
            XCTAssertEqual(numeric.map(abs).max() ?? 0, 0, "\(what) \(name) changes the output", file: file, line: line)
        }
        for (k, name) in h.parameterNames.enumerated() where !untrained.contains(name) {
            check("\(what) \(name) gradient", values: h.parameters[k].pointer, count: h.parameters[k].count,
                  analytic: analytic.parameters[k], loss: h.loss, file: file, line: line)
        }
    }
}
