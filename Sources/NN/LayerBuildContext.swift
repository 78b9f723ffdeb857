/// What a layer type may need from outside its Keras `config` when it is made: today only the
/// GEMM backend, which the layers that multiply matrices (Conv2D, Dense) hold; the rest ignore it.
/// One value passed down, so a new need is one new field, not a new argument on every layer.
public struct LayerBuildContext {
    /// Where the made layers' matrix products run.
    public let gemm: GEMMBackend

    public init(gemm: GEMMBackend) { self.gemm = gemm }
}
