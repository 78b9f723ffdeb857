import Datasets
import NN

/// What every run of a sweep trains and is evaluated on. The training set is split once, class-balanced
/// and seeded: `validation` (held out, where settings are chosen) and the `pool` the students train on,
/// with the teacher's logits of the pool's samples picked by their original ids.
public struct SweepData {
    public let pool: LabeledImages
    /// `[pool.count, classes]`, row i for pool sample i.
    public let poolLogits: CachedTeacherLogits
    public let validation: LabeledImages
    public let test: LabeledImages
    /// Original training-set ids of the validation samples (increasing).
    public let validationIDs: [Int]

    /// The seed of the validation split: fixed, so every sweep of the same data holds out the same samples.
    public static let splitSeed: UInt64 = 0x5EED_0F_5B117

    public init(train: LabeledImages, logits: CachedTeacherLogits, test: LabeledImages, validationFraction: Double) throws {
        guard logits.count == train.count else {
            throw TrainingError("the teacher logits have \(logits.count) rows, the training set \(train.count) samples")
        }
        let (validationIDs, poolIDs) = try validationSplit(train, fraction: validationFraction)
        self.validationIDs = validationIDs
        let pool = TaughtSamples(data: train, logits: logits).subset(poolIDs)
        (self.pool, poolLogits) = (pool.data, pool.logits)
        validation = train.subset(validationIDs)
        self.test = test
    }

    /// The pool samples a run trains on (all of them, or its seeded class-balanced fraction) and their logits.
    public func trainingSet(fraction: Double, seed: UInt64) -> (data: LabeledImages, logits: CachedTeacherLogits) {
        let picked = TaughtSamples(data: pool, logits: poolLogits).classBalanced(fraction: fraction, seed: seed).samples
        return (picked.data, picked.logits)
    }
}
