import Datasets
import NN

/// Training samples with the teacher's logits of each (row i for sample i): a subset picks both by
/// original id, so a student trained on part of a set still learns each sample's own logits.
public struct TaughtSamples<Logits: TeacherLogitsSource> {
    public let data: LabeledImages
    public let logits: Logits

    public init(data: LabeledImages, logits: Logits) { (self.data, self.logits) = (data, logits) }

    /// The samples at `ids`, in that order, renumbered from 0.
    public func subset(_ ids: [Int]) -> TaughtSamples {
        TaughtSamples(data: data.subset(ids), logits: logits.restricted(to: ids))
    }

    /// A seeded, class-balanced `fraction` (all samples when `fraction` >= 1), and the ids it kept.
    public func classBalanced(fraction: Double, seed: UInt64) -> (samples: TaughtSamples, ids: [Int]) {
        guard fraction < 1 else { return (self, Array(0..<data.count)) }
        var rng = SeededGenerator(seed: seed)
        let ids = classBalancedSubset(labels: data.labels, classes: data.classes, fraction: fraction, using: &rng)
        return (subset(ids), ids)
    }
}

extension Recipe {
    /// This recipe on a seeded, class-balanced `fraction` of its training set (its own subset seed),
    /// with the teacher's logits of the samples kept, and how many were kept.
    public func onFraction<L: TeacherLogitsSource>(_ fraction: Double, teacher: L) -> (recipe: Recipe, teacher: L, kept: Int) {
        let picked = TaughtSamples(data: train, logits: teacher).classBalanced(fraction: fraction, seed: settings.seed(for: .trainSubset))
        var recipe = Recipe(settings: settings, communicator: communicator, gemm: gemm, train: picked.samples.data, test: test)
        (recipe.observer, recipe.checkpoints, recipe.validation) = (observer, checkpoints, validation)
        return (recipe, picked.samples.logits, picked.ids.count)
    }
}
