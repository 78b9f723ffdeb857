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

    public var count: Int { sampleIDs.count }

    public init(images: UnsafePointer<Float>, labels: UnsafePointer<Int32>, sampleIDs: ArraySlice<Int>, globalCount: Int) {
        self.images = images
        self.labels = labels
        self.sampleIDs = sampleIDs
        self.globalCount = globalCount
    }
}
