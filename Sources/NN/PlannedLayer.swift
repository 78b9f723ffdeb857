/// A layer whose matrix products go through the GEMM seam (Conv2D, Dense): which products a step
/// makes, how they are planned before the first step, and what they cost. Planning
/// (`Sequential.prepare`), the cache-sized inference batch, summaries and profiles read it; the
/// forward and backward passes do not. A layer that multiplies nothing does not adopt it and
/// counts as no products, no workspace and no FLOPs.
public protocol PlannedLayer: Layer {
    /// The matrix products a training step of `batch` samples makes, named ("forward",
    /// "kernel gradient", "input gradient").
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
}

/// GEMM FLOPs of one training sample from each layer's forward FLOPs: forward, kernel gradient and
/// input gradient of every layer, except the input gradient of a layer that reads only the model's
/// input (in a chain, the first layer), which is never formed.
func trainingFLOPs(forwardFLOPs: [Int], readsInputOnly: [Bool]) -> Int {
    zip(forwardFLOPs, readsInputOnly).reduce(0) { total, item in total + item.0 * (item.1 ? 2 : 3) }
}
