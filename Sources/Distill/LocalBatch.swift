import NN

/// This rank's slice of one global batch, gathered into reusable buffers.
public struct LocalBatch {
    /// `[count, H, W, 1]`
    public let images: UnsafePointer<Float>
    /// `[count]`
    public let labels: UnsafePointer<Int32>
    /// Dataset indices of the `count` samples (a slice of the epoch's permutation).
    public let sampleIDs: ArraySlice<Int>
    /// Samples in this global batch over all ranks: gradients are divided by this.
    public let globalCount: Int
    /// The phase's seed and this step's number in it, for layers that draw per step (Dropout).
    public let seed: UInt64
    public let step: Int
    /// This step's epoch, from 1, of the phase's `epochs` (for losses that warm up).
    public let epoch: Int, epochs: Int
    /// MixUp's partner labels and weights for the `count` rows (`--augment mixup=A`); nil when not mixing.
    public let mix: LabelMix?

    public var count: Int { sampleIDs.count }

    /// The same samples, step and epoch with other images of them (a view the student's leading augmentation made).
    public func with(images: UnsafePointer<Float>) -> LocalBatch {
        LocalBatch(images: images, labels: labels, sampleIDs: sampleIDs, globalCount: globalCount, seed: seed, step: step, epoch: epoch, epochs: epochs,
                   mix: mix)
    }
    /// The forward pass of a training step on this batch; `reducer` sums over the global batch.
    public func trainingPass(_ reducer: BatchReducer) -> TrainingPass {
        TrainingPass(seed: seed, step: step, epoch: epoch, sampleIDs: sampleIDs, reducer: reducer)
    }

    public init(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, sampleIDs: ArraySlice<Int>, globalCount: Int,
                seed: UInt64 = 0, step: Int = 0, epoch: Int = 1, epochs: Int = 1, mix: LabelMix? = nil) {
        (self.seed, self.step, self.epoch, self.epochs, self.mix) = (seed, step, epoch, epochs, mix)
        self.images = images
        self.labels = labels
        self.sampleIDs = sampleIDs
        self.globalCount = globalCount
    }
}
