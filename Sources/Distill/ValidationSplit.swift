import Datasets
import NN

/// The validation split every command shares with the sweep: a class-balanced `fraction` of the
/// training set drawn with a fixed seed (the same samples whenever the data are the same), and the
/// rest, the pool that trains. Both lists are increasing training-set ids.
public func validationSplit(_ train: LabeledImages, fraction: Double, flag: String = "--validation-fraction") throws
    -> (validation: [Int], pool: [Int])
{
    var rng = SeededGenerator(seed: SweepData.splitSeed)
    let validation = classBalancedSubset(labels: train.labels, classes: train.classes, fraction: fraction, using: &rng)
    var held = [Bool](repeating: false, count: train.count)
    for id in validation { held[id] = true }
    let pool = train.labels.indices.filter { !held[$0] }
    guard !pool.isEmpty else { throw TrainingError("\(flag) \(fraction) leaves no training samples of the \(train.count)") }
    guard !validation.isEmpty else { throw TrainingError("\(flag) \(fraction) holds out no sample of the \(train.count)") }
    return (validation, pool)
}

extension Recipe {
    /// This recipe training on the pool of `settings.validationFraction`'s split and evaluating each
    /// epoch on the held-out samples (unchanged at 0), and the pool's training-set ids.
    public func holdingOut() throws -> (recipe: Recipe, pool: [Int]) {
        try SettingRanges.validation(fraction: settings.validationFraction, restoreBest: settings.restoreBest, patience: settings.patience)
        guard settings.validationFraction > 0 else { return (self, Array(0..<train.count)) }
        let (validation, pool) = try validationSplit(train, fraction: settings.validationFraction)
        var recipe = Recipe(settings: settings, communicator: communicator, gemm: gemm, train: train.subset(pool), test: test)
        (recipe.observer, recipe.checkpoints, recipe.validation) = (observer, checkpoints, train.subset(validation))
        return (recipe, pool)
    }

    /// The same, with the teacher's logits of the pool's samples kept (row i for pool sample i).
    public func holdingOut<L: TeacherLogitsSource>(teacher: L) throws -> (recipe: Recipe, teacher: L) {
        let (recipe, pool) = try holdingOut()
        return (recipe, settings.validationFraction > 0 ? teacher.restricted(to: pool) : teacher)
    }
}
