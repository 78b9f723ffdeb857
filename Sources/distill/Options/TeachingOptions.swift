import ArgumentParser
import Distill

/// How the distilled student is taught beyond its loss (`run` and `distill-student`): FitNets' feature hints, and
/// where the teacher's logits of augmented views are kept.
struct TeachingOptions: ParsableArguments {
    @Option(name: .customLong("hint"),
            help: ArgumentHelp("A feature hint: the mean squared error between the teacher layer's output (after its activation) and the "
                               + "student layer's, passed through a learned regressor (a 1x1 Conv2D when channels differ, a Dense for flat "
                               + "outputs, none when the shapes match), weighted by WEIGHT (default 1) and added to the loss. Keras layer names, "
                               + "as `distill summary` lists them; the two layers' heights and widths must match. The teacher model runs "
                               + "forward to the layer on every batch; the regressors are trained and checkpointed with the student, not "
                               + "saved in its model file. Repeatable.", valueName: "TEACHER_LAYER:STUDENT_LAYER[:WEIGHT]"))
    var hints: [String] = []

    @Option(help: ArgumentHelp("FitNets' two stages: the first N student epochs train on the hints alone, the rest on the distillation "
                               + "loss alone (every term is reported throughout). Default: 0, both terms together in every epoch.", valueName: "N"))
    var hintEpochs = 0

    @Option(help: ArgumentHelp("With --augment: keep the teacher's logits of every epoch's augmented views in this directory (one table "
                               + "per epoch, computed once, data-parallel) and read them instead of running the teacher on every batch; "
                               + "students that see the same views (same data, --augment, seed and teacher) reuse them. Default: none.",
                               valueName: "directory"))
    var viewCache: String?

    func validate() throws {
        guard (0...100_000).contains(hintEpochs) else { throw ValidationError("--hint-epochs must be in 0...100000, got \(hintEpochs)") }
        do { _ = try parsed } catch let error as TrainingError { throw ValidationError(error.description) }
    }

    var parsed: [HintSpecification] { get throws { try hints.map(HintSpecification.init(parsing:)) } }

    /// `settings` with the hints (checked against the models by `RecipeSettings.hintPlan`); with `--view-cache`, whether
    /// the settings' augmentation lets it serve (before any training).
    func apply(to settings: inout RecipeSettings) throws {
        (settings.hints, settings.hintEpochs) = (try parsed, hintEpochs)
        if viewCache != nil { try settings.checkViewCache() }
    }

    /// The view cache, its lines going to `log`.
    func cache(log: @escaping (String) -> Void) -> ViewCache? { viewCache.map { ViewCache(directory: $0, log: log) } }
}
