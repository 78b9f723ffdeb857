/// A layer that reads several tensors of a graph (`Add`, `Concatenate`, `Multiply`): its shapes,
/// forward and backward take one pointer per input, in the order of the Keras call's list. Its
/// single-input `Layer` requirements are the one-input case (which `build` refuses: a merge takes
/// at least two inputs, as in Keras).
public protocol MergeLayer: Layer {
    /// Fixes the inputs' per-sample shapes and returns the output's; throws when they do not fit.
    func build(inputShapes: [[Int]]) throws -> [Int]

    /// `output[batch, out...] = f(inputs[0][batch, ...], inputs[1][batch, ...], ...)`.
    func forward(inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafeMutablePointer<Float>, batch: Int)

    /// Writes (overwriting) each non-nil `inputGradients[k]`, the gradient with respect to `inputs[k]`.
    func backward(outputGradient: UnsafePointer<Float>, inputGradients: UnsafeBufferPointer<UnsafeMutablePointer<Float>?>,
                  inputs: UnsafeBufferPointer<UnsafePointer<Float>>, output: UnsafePointer<Float>, batch: Int)
}

public extension MergeLayer {
    func build(inputShape: [Int]) throws -> [Int] { try build(inputShapes: [inputShape]) }

    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 1) { inputs in
            inputs[0] = input
            forward(inputs: UnsafeBufferPointer(inputs), output: output, batch: batch)
        }
    }

    func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 1) { inputs in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 1) { gradients in
                (inputs[0], gradients[0]) = (input, inputGradient)
                backward(outputGradient: outputGradient, inputGradients: UnsafeBufferPointer(gradients),
                         inputs: UnsafeBufferPointer(inputs), output: output, batch: batch)
            }
        }
    }
}

/// The shapes an elementwise merge (`Add`, `Multiply`) accepts: every input of the output's shape,
/// or of shape `[1, ..., 1, C]` broadcast over every position (a squeeze-and-excitation scale).
/// Keras broadcasts more generally; other shapes are a one-line error.
struct ElementwiseMergeShapes {
    let outputShape: [Int]
    /// Per input: true when it is `[1, ..., 1, C]` against a larger output, read once per position.
    let broadcast: [Bool]
    var channels: Int { outputShape.last ?? 1 }

    init(_ shapes: [[Int]], layer kind: String) throws {
        guard shapes.count >= 2 else { throw ModelError("\(kind) takes at least 2 inputs, got \(shapes.count)") }
        guard let full = shapes.max(by: { elementCount($0) < elementCount($1) }) else { throw ModelError("\(kind) has no inputs") }
        let fits: ([Int]) -> Bool = { shape in
            shape == full || (shape.count == full.count && shape.last == full.last && shape.dropLast().allSatisfy { $0 == 1 })
        }
        guard shapes.allSatisfy(fits) else {
            throw ModelError("\(kind) inputs of shapes \(shapes.map(\.description).joined(separator: ", ")) do not match; "
                + "supported: equal shapes, or [1, ..., 1, C] against [..., C]")
        }
        outputShape = full
        broadcast = shapes.map { $0 != full }
    }
}
