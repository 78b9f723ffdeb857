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
    /// The teacher's logits of the validation samples (row i for validation sample i), and of the test set where
    /// known (a teacher model's; nil for logits given for the training set only): what agreement is measured against.
    public let validationLogits: CachedTeacherLogits
    public let test: LabeledImages
    public let testLogits: CachedTeacherLogits?
    /// Original training-set ids of the validation samples (increasing).
    public let validationIDs: [Int]

    /// The seed of the validation split: fixed, so every sweep of the same data holds out the same samples.
    public static let splitSeed: UInt64 = 0x5EED_0F_5B117

    public init(train: LabeledImages, logits: CachedTeacherLogits, test: LabeledImages, testLogits: CachedTeacherLogits? = nil,
                validationFraction: Double) throws {
        guard logits.count == train.count else {
            throw TrainingError("the teacher logits have \(logits.count) rows, the training set \(train.count) samples")
        }
        let (validationIDs, poolIDs) = try validationSplit(train, fraction: validationFraction)
        self.validationIDs = validationIDs
        let pool = TaughtSamples(data: train, logits: logits).subset(poolIDs)
        (self.pool, poolLogits) = (pool.data, pool.logits)
        validation = train.subset(validationIDs)
        validationLogits = logits.restricted(to: validationIDs)
        if let testLogits, testLogits.count != test.count || testLogits.classes != logits.classes {
            throw TrainingError("the teacher's test logits have \(testLogits.count) x \(testLogits.classes), the test set \(test.count) samples "
                + "of \(logits.classes) classes")
        }
        (self.test, self.testLogits) = (test, testLogits)
    }

    /// The pool samples a run trains on (all of them, or its seeded class-balanced fraction) and their logits.
    public func trainingSet(fraction: Double, seed: UInt64) -> (data: LabeledImages, logits: CachedTeacherLogits) {
        let picked = TaughtSamples(data: pool, logits: poolLogits).classBalanced(fraction: fraction, seed: seed).samples
        return (picked.data, picked.logits)
    }
}
