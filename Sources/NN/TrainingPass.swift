/// Sums values over every rank's part of the global batch (an allreduce), so that statistics of
/// the batch are those of the global batch; `NN` reaches the communicator only through this.
public protocol BatchReducer: AnyObject {
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
}

/// What a training step's forward pass tells the layers that behave differently in training
/// (Dropout, BatchNormalization): which step it is and which samples the batch rows are, so a
/// random choice keyed on them is the same whatever the number of ranks the global batch is split
/// across, and how to sum over the global batch. A forward pass without one is inference.
public struct TrainingPass {
    /// The phase's seed and the step's number within it (counting over epochs).
    public let seed: UInt64
    public let step: Int
    /// The step's epoch, from 1 (augmentation draws are keyed on it).
    public let epoch: Int
    /// Global sample ids of the batch rows (`[batch]`).
    public let sampleIDs: ArraySlice<Int>
    /// Every rank takes each reduction, in the same order, even with no samples of its own.
    public let reducer: BatchReducer?

    public init(seed: UInt64, step: Int, epoch: Int = 1, sampleIDs: ArraySlice<Int>, reducer: BatchReducer? = nil) {
        (self.seed, self.step, self.epoch, self.sampleIDs, self.reducer) = (seed, step, epoch, sampleIDs, reducer)
    }

    /// The key a layer's random draws for batch row `row` start from (Dropout's masks, GaussianNoise's noise): a hash
    /// of the phase seed, the step, the layer's position `layer` and the row's global sample id, so 1 rank and N ranks
    /// draw the same values for the same global batch, and draws differ between steps, layers and samples.
    func sampleKey(layer: Int, row: Int) -> UInt64 {
        let mix = SeededGenerator.mix
        let stepKey = mix(seed ^ mix(UInt64(step) &+ 0x632B_E59B_D9B4_E019) ^ mix(UInt64(layer) &* 0x9E37_79B9_7F4A_7C15))
        return mix(stepKey ^ mix(UInt64(sampleIDs[sampleIDs.startIndex + row]) &+ 0xD1B5_4A32_D192_ED03))
    }
}

/// A layer whose forward pass depends on training or inference: told before each forward pass
/// (`pass` nil for inference), with its position in the model to key its random choices on.
public protocol ModeDependentLayer: Layer {
    func begin(_ pass: TrainingPass?, layer index: Int)
}
