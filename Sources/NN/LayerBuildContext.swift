/// What a layer type may need from outside its Keras `config` when it is made: the GEMM backend,
/// which the layers that multiply matrices (Conv2D, Dense) hold, and whether the layer reads the
/// model's input pixels. One value passed down, so a new need is one new field, not a new argument
/// on every layer.
public struct LayerBuildContext {
    /// Where the made layers' matrix products run.
    public let gemm: GEMMBackend
    /// True for a layer that reads the model's input: image bytes b, loaded as b / 255. A leading
    /// `Rescaling` undoes that, so that it sees the raw 0-255 values a Keras model is given.
    public var readsPixels = false

    public init(gemm: GEMMBackend, readsPixels: Bool = false) { (self.gemm, self.readsPixels) = (gemm, readsPixels) }
}
