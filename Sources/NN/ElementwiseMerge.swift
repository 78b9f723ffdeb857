/// Keras's `Subtract`, `Average`, `Maximum` and `Minimum` merges of inputs of one shape, computed as Keras does,
/// left to right:
///
///     subtract  y = x0 - x1 (two inputs)                dx0 = dy, dx1 = -dy
///     average   y = (x0 + x1 + ... + xn-1) / n           dxk = dy / n
///     maximum   y = max(max(x0, x1), x2) ...             dxk = dy where xk is the first maximum, else 0
///     minimum   likewise with min
///
/// TensorFlow's gradient of `maximum(a, b)` goes to `a` where `a >= b`, so a tie goes to the earlier input.
public final class ElementwiseMerge: MergeLayer {
    public enum Operation: String, CaseIterable, Sendable {
        case subtract, average, maximum, minimum

        /// Keras's class name: "Subtract", ...
        public var kerasClassName: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
    }

    public let operation: Operation
    public var kind: String { operation.rawValue }
    private var size = 0

    public init(_ operation: Operation) { self.operation = operation }

    public func build(inputShapes: [[Int]]) throws -> [Int] {
        let name = operation.kerasClassName
        guard inputShapes.count >= 2 else { throw ModelError("\(name) takes at least 2 inputs, got \(inputShapes.count)") }
        if operation == .subtract, inputShapes.count != 2 { throw ModelError("Subtract takes exactly 2 inputs, got \(inputShapes.count)") }
        guard inputShapes.allSatisfy({ $0 == inputShapes[0] }) else {
            throw ModelError("\(name) inputs of shapes \(inputShapes.map(\.description).joined(separator: ", ")) differ; "
                + "supported: inputs of one shape")
        }
        size = elementCount(inputShapes[0])
        return inputShapes[0]
    }

    /// The input whose value `y` takes at element `i`: the first maximum (or minimum).
    @inline(__always)
    private func winner(_ inputs: UnsafeBufferPointer<UnsafePointer<Float>>, _ i: Int) -> Int {
        var (best, value) = (0, inputs[0][i])
        for k in 1..<inputs.count where operation == .maximum ? inputs[k][i] > value : inputs[k][i] < value {
            (best, value) = (k, inputs[k][i])
        }
        return best
    }

    public func forward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let count = batch * size
        switch operation {
        case .subtract: for i in 0..<count { output[i] = inputs[0][i] - inputs[1][i] }
        case .average:
            output.update(from: inputs[0], count: count)
            for input in inputs.dropFirst() { for i in 0..<count { output[i] += input[i] } }
            let n = Float(inputs.count)
            for i in 0..<count { output[i] /= n }
        case .maximum, .minimum: for i in 0..<count { output[i] = inputs[winner(inputs, i)][i] }
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>,
                         inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>, batch: Int) {
        let count = batch * size
        switch operation {
        case .subtract:
            inputGradients[0]?.update(from: outputGradient, count: count)
            if let gradient = inputGradients[1] { for i in 0..<count { gradient[i] = -outputGradient[i] } }
        case .average:
            let n = Float(inputs.count)
            for case let gradient? in inputGradients { for i in 0..<count { gradient[i] = outputGradient[i] / n } }
        case .maximum, .minimum:
            for i in 0..<count {
                let best = winner(inputs, i)
                for (k, gradient) in inputGradients.enumerated() { gradient?[i] = k == best ? outputGradient[i] : 0 }
            }
        }
    }
}

extension ElementwiseMerge: KerasLayer {
    public static let kerasClassNames = Operation.allCases.map(\.kerasClassName)
    public static let kerasClassName = kerasClassNames[0]

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        guard let operation = Operation.allCases.first(where: { $0.kerasClassName == config.className }) else {
            throw config.error("not a merge of \(kerasClassNames.joined(separator: ", "))")
        }
        return BuiltLayer([ElementwiseMerge(operation)])
    }
}
