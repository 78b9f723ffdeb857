/// A layer with an explicit forward and backward pass over a batch in NHWC (or `[N, features]`) layout.
///
/// Shapes are per sample (`[H, W, C]` or `[F]`); the batch size is passed to each call.
/// Parameters live in the owning model's flat buffers: the model hands each layer pointers
/// to its slices with `bind`, in the order of `parameterShapes`.
public protocol Layer: AnyObject {
    /// Keras-style base name ("conv2d", "dense", ...), used to name parameters in checkpoints.
    var kind: String { get }

    /// Fixes the input shape and returns the output shape; throws when the shapes do not fit.
    func build(inputShape: [Int]) throws -> [Int]

    /// The parameter tensors this layer owns (after `build`), e.g. `[("kernel", [3, 3, 1, 16]), ("bias", [16])]`.
    var parameterShapes: [(name: String, shape: [Int])] { get }

    /// How the parameter named `parameter` starts (Keras's defaults: Glorot-uniform kernels, zero biases).
    func initializer(for parameter: String) -> Initializer

    /// Points the layer at its parameter and gradient slices in the model's flat buffers.
    func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>])

    /// Sizes the layer's workspaces for batches of up to `maxBatch` samples (called once per batch shape).
    func reserve(maxBatch: Int)

    /// The matrix products a training step of `batch` samples makes, named ("forward",
    /// "kernel gradient", "input gradient"); empty for a layer that multiplies no matrices.
    func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)]

    /// Plans what a batch of exactly `batch` samples needs from the GEMM backend, so that no
    /// step makes a plan (called for each batch size a loop will use, before its first step).
    func prepare(batch: Int)

    /// Floats of workspace this layer holds per sample for a forward pass, besides its output
    /// (im2col columns); with the outputs, what decides how many samples fit in a cache.
    var workspacePerSample: Int { get }

    /// Floating-point operations of this layer's matrix products for one sample's forward pass
    /// (`2 * m * n * k` per GEMM); the backward pass costs the same once more per gradient it forms.
    var forwardFLOPsPerSample: Int { get }

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
    func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {}
    func initializer(for parameter: String) -> Initializer { parameter == "kernel" ? .glorotUniform : .zeros }
    func reserve(maxBatch: Int) {}
    func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)] { [] }
    func prepare(batch: Int) {}
    var forwardFLOPsPerSample: Int { 0 }
    var workspacePerSample: Int { 0 }
}

/// A model definition that cannot be built or loaded: the message says which layer or tensor and why.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

@inline(__always)
func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }
