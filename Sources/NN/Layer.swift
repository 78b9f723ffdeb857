/// A layer with an explicit forward and backward pass over a batch in NHWC (or `[N, features]`) layout.
///
/// Shapes are per sample (`[H, W, C]` or `[F]`); the batch size is passed to each call.
/// Parameters live in the owning model's flat buffers: the model hands each layer pointers
/// to its slices with `bind`, in the order of `parameterShapes`. What a layer's matrix products
/// are and cost, and how they are planned, is `PlannedLayer`'s (only the layers that multiply).
public protocol Layer: AnyObject {
    /// Keras-style base name ("conv2d", "dense", ...), used to name parameters in checkpoints.
    var kind: String { get }

    /// Fixes the input shape and returns the output shape; throws when the shapes do not fit.
    func build(inputShape: [Int]) throws -> [Int]

    /// The parameter tensors this layer owns (after `build`), e.g. `[("kernel", [3, 3, 1, 16]), ("bias", [16])]`.
    var parameterShapes: [(name: String, shape: [Int])] { get }

    /// The parameters that are state, not weights (BatchNormalization's moving statistics): no
    /// optimizer or weight decay touches them, as Keras keeps them out of `trainable_variables`.
    var nonTrainableParameters: Set<String> { get }

    /// How the parameter named `parameter` starts (Keras's defaults: Glorot-uniform kernels, zero biases).
    func initializer(for parameter: String) -> Initializer

    /// Points the layer at its parameter and gradient slices in the model's flat buffers.
    func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>])

    /// Sizes the layer's workspaces for batches of up to `maxBatch` samples (called once per batch shape).
    func reserve(maxBatch: Int)

    /// `output[batch, out...] = f(input[batch, in...])`.
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int)

    /// Adds this batch's parameter gradients into the bound gradient slices (`+=`), and writes
    /// `inputGradient` (overwriting) when it is non-nil. `input`/`output` are those of the last forward.
    func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int)
}

public extension Layer {
    var parameterShapes: [(name: String, shape: [Int])] { [] }
    var nonTrainableParameters: Set<String> { [] }
    func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {}
    func initializer(for parameter: String) -> Initializer { parameter == "kernel" ? .glorotUniform : .zeros }
    func reserve(maxBatch: Int) {}
}

/// A model definition that cannot be built or loaded: the message says which layer or tensor and why.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@inline(__always)
func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }
