import Collective
import Dispatch
import NN

/// Trains single runs of a sweep in this process alone (a sweep spreads whole runs over ranks, never
/// a run's batches): the recipe's student with the run's seed, epochs and method, on its training
/// set, evaluated on the validation split (search) or the test set (confirm).
public struct SweepTrainer {
    public let data: SweepData
    /// The student model, batch size and learning rate; seed, epochs, loss, alpha and T come from each run.
    public let settings: RecipeSettings
    public let gemm: GEMMBackend
    /// With `--augment`: the teacher's model and the cache of its logits of the views (`ViewTeacherLogits`), shared by
    /// the runs of one seed and train fraction (every loss, alpha and T); nil without augmentation.
    public var views: (teacher: Sequential, cache: ViewCache)?

    public init(data: SweepData, settings: RecipeSettings, gemm: GEMMBackend) {
        (self.data, self.settings, self.gemm) = (data, settings, gemm)
    }

    /// The recipe for `run`: its settings, training set and evaluation set, on a single process (or on `communicator`).
    public func recipe(for run: SweepRun, communicator: Communicator = SingleProcess()) -> (recipe: Recipe, logits: CachedTeacherLogits) {
        var settings = settings
        settings.seed = run.seed
        settings.studentEpochs = run.epochs
        if let method = run.method {
            settings.loss = method.loss
            if let alpha = method.alpha, let temperature = method.temperature { (settings.alpha, settings.temperature) = (alpha, temperature) }
        }
        let (train, logits) = data.trainingSet(fraction: run.trainFraction, seed: settings.seed(for: .trainSubset))
        let evaluation = run.stage == .search ? data.validation : data.test
        return (Recipe(settings: settings, communicator: communicator, gemm: gemm, train: train, test: evaluation), logits)
    }

    /// Trains `run`; the distilled student and its scratch twin share initial weights, subset and batch order.
    public func train(_ run: SweepRun) throws -> TrainedModel {
        let (recipe, logits) = recipe(for: run)
        switch run.kind {
        case .scratch: return try recipe.trainScratchTwin()
        case .distilled:
            guard let views else { return try recipe.distillStudent(from: logits) }
            return try recipe.distillStudent(from: RunningTeacher(views.teacher), viewCache: views.cache)
        }
    }

    /// Trains `run` and reports its evaluation, its agreement with the teacher and calibration (`PredictionFigures`,
    /// one more forward pass over the evaluation set) and its wall-clock seconds (training and evaluation).
    /// A run that fails (e.g. its loss diverges) ends the sweep with the run named: every run must be recorded for the pairs to hold.
    public func outcome(of run: SweepRun) throws -> SweepOutcome {
        let start = DispatchTime.now().uptimeNanoseconds
        let trained: TrainedModel
        do { trained = try train(run) } catch { throw TrainingError("sweep run '\(run.label)' (\(run.stage.rawValue)): \(error)") }
        let (evaluation, teacher) = run.stage == .search ? (data.validation, data.validationLogits) : (data.test, data.testLogits)
        let figures = PredictionFigures.measure(trained.model, on: evaluation, teacher: teacher, batchSize: 500)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let test = trained.report.test
        guard test.loss.isFinite, test.accuracy.isFinite else {
            throw TrainingError("sweep run '\(run.label)' (\(run.stage.rawValue)): its \(run.stage.evaluatedOn) loss is \(test.loss)")
        }
        return SweepOutcome(accuracy: test.accuracy, loss: test.loss, seconds: seconds, agreement: figures.agreement,
                            calibrationError: figures.calibrationError)
    }
}
