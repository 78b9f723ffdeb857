/// A layer trained with a model but outside its graph: it reads the output of the model's layer
/// `reads`, its parameters follow the model's in the same `ParameterStore` (named `<name>.kernel`),
/// so one allreduce, one optimizer and one training state cover both, and its owner runs it (a
/// feature hint's regressor). A model's exported weights are its own, `modelParameterCount` of them.
public struct AttachedLayer {
    public let name: String
    public let layer: Layer
    public let reads: Int

    public init(name: String, layer: Layer, reads: Int) { (self.name, self.layer, self.reads) = (name, layer, reads) }
}
