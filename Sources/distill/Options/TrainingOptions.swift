import ArgumentParser
import Distill
import NN   // ModelDescription: the model files are read here

/// Hyperparameters of the recipe; defaults are the Keras example's.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Architecture preset: keras (the Keras example's CNNs) or hidden (adds a hidden Dense layer). Shorthand for both model files.")
    var preset: Architecture = .keras

    @Option(help: ArgumentHelp("The teacher's architecture as a Keras model JSON file, Sequential or functional (model.to_json()). Default: the preset's teacher.",
                               valueName: "file.json"))
    var teacherModel: String?

    @Option(help: ArgumentHelp("The student's architecture as a Keras model JSON file, Sequential or functional (model.to_json()). Default: the preset's student.",
                               valueName: "file.json"))
    var studentModel: String?

    @Option(help: "Epochs of teacher training.")
    var teacherEpochs = 5

    @Option(help: "Epochs of student training (both the distilled and the from-scratch student).")
    var studentEpochs = 3

    @Option(help: "Global batch size, split across ranks.")
    var batchSize = 32

    @OptionGroup(title: "Optimizer")
    var optimizing: OptimizerOptions

    @Option(help: ArgumentHelp("The teacher's optimizer, where it differs from --optimizer's (as --optimizer).", valueName: "name[:key=value...]|file.json"))
    var teacherOptimizer: String?

    @Option(help: ArgumentHelp("The teacher's schedule, where it differs from --schedule's (as --schedule).", valueName: "name[:key=value...]"))
    var teacherSchedule: String?

    @Option(help: "The teacher's learning rate, where it differs from --learning-rate's.", transform: decimal)
    var teacherLearningRate: Float?

    @Option(help: ArgumentHelp("Data-side augmentation of the training images, parts joined by ':' and applied in this order: "
        + "translate=K (an integer shift in -K...K on each axis, zero fill), pad-crop=P (pad P zero pixels, crop back at a random offset), "
        + "flip (mirror left to right, probability 1/2), then mixup=A (MixUp: each view mixed with another training sample's, "
        + "weight lambda ~ Beta(A, A), e.g. 0.2, and the labels' cross-entropies mixed by the same lambda); e.g. pad-crop=4:flip. "
        + "Each draw is keyed on the seed, the epoch and the sample, "
        + "so ranks and resumes see the same views. A distilled student's teacher then runs on every batch, on the student's view. Default: none.",
        valueName: "part[:part...]"))
    var augment = "none"

    @Option(help: ArgumentHelp("The teacher's augmentation, where it differs from --augment's (none to train it on the plain images).",
                               valueName: "part[:part...]"))
    var teacherAugment: String?

    @Option(help: ArgumentHelp("Hold out this class-balanced fraction of the training set (the sweep's fixed split), in [0, 0.5]: every phase "
        + "trains on the rest and reports val_loss and val_accuracy after each epoch. Default: 0, none.", valueName: "F"), transform: decimal)
    var validationFraction = 0.0

    @Flag(help: "Keep each phase's best epoch on the validation split (needs --validation-fraction), as Keras's EarlyStopping(restore_best_weights=True).")
    var restoreBest = false

    @Option(help: "What --restore-best and --patience watch: val_loss (lower is better) or val_accuracy (higher is better).")
    var monitor = ValidationMonitor.Quantity.loss

    @Option(help: "Stop a phase once this many epochs in a row have not improved the monitored value (needs --validation-fraction), in 0...100000. Default: never.")
    var patience: Int?

    @Option(help: "Weight of the student loss; 1 - alpha weighs the distillation loss. In [0, 1].", transform: decimal)
    var alpha: Float = 0.1

    @Option(help: "Softmax temperature of the distillation loss, in (0, \(Int(SettingRanges.temperatureLimit))].",
            transform: decimal)
    var temperature: Float = 10

    @Option(help: lossHelp)
    var loss = LossRegistry.defaultName

    @Option(help: "Seed for weight initialisation and shuffling.")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp(augmentSeedHelp, valueName: "N"))
    var augmentSeed: UInt64?

    func validate() throws {
        guard teacherEpochs > 0 else { throw ValidationError("--teacher-epochs must be positive, got \(teacherEpochs)") }
        guard studentEpochs > 0 else { throw ValidationError("--student-epochs must be positive, got \(studentEpochs)") }
        for (flag, value) in [("--teacher-epochs", teacherEpochs), ("--student-epochs", studentEpochs)] where value > 100_000 {
            throw ValidationError("\(flag) must be at most 100000, got \(value)")
        }
        do {
            try SettingRanges.batchSize(batchSize)
            _ = try teacherRule(students: optimizing.rule)
            try SettingRanges.validation(fraction: validationFraction, restoreBest: restoreBest, patience: patience)
            _ = try AugmentSpecification.resolve(augment)
            _ = try teacherAugment.map { try AugmentSpecification.resolve($0, flag: "--teacher-augment") }
            try SettingRanges.alpha(alpha)
            try SettingRanges.temperature(temperature)
            _ = try LossRegistry.resolve(loss)
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    /// The settings, with the model files read (a missing or malformed file throws, naming it).
    func teacherRule(students: TrainingRule) throws -> TrainingRule? {
        try TrainingRule.teacher(optimizer: teacherOptimizer, schedule: teacherSchedule, learningRate: teacherLearningRate, students: students)
    }

    var settings: RecipeSettings {
        get throws {
            var settings = RecipeSettings()
            settings.use(preset)
            if let teacherModel { settings.teacherModel = try ModelDescription(contentsOfFile: teacherModel) }
            if let studentModel { settings.studentModel = try ModelDescription(contentsOfFile: studentModel) }
            settings.teacherEpochs = teacherEpochs
            settings.studentEpochs = studentEpochs
            settings.batchSize = batchSize
            let rule = try optimizing.rule
            (settings.learningRate, settings.optimizer, settings.schedule) = (rule.learningRate, rule.optimizer, rule.schedule)
            settings.teacherRule = try teacherRule(students: rule)
            settings.augment = try AugmentSpecification.resolve(augment)
            (settings.validationFraction, settings.restoreBest, settings.monitor, settings.patience) = (validationFraction, restoreBest, monitor, patience)
            let teacherAugment = try teacherAugment.map { try AugmentSpecification.resolve($0, flag: "--teacher-augment") }
            settings.teacherAugment = teacherAugment == settings.augment ? nil : teacherAugment
            settings.alpha = alpha
            settings.temperature = temperature
            settings.seed = seed
            settings.augmentSeed = augmentSeed
            settings.loss = try LossRegistry.resolve(loss).canonical
            return settings
        }
    }
}

extension Architecture: ExpressibleByArgument {}
extension ValidationMonitor.Quantity: ExpressibleByArgument {}

/// `--augment-seed`'s help (run, train-teacher, distill-student and sweep).
let augmentSeedHelp = "Seed of the augmentation draws, kept apart from --seed: students of other seeds then see the same views "
    + "(and share --view-cache's tables). Default: derived from --seed."

/// `--loss`'s help: the grammar and every registered loss.
let lossHelp = ArgumentHelp(
    "The distillation loss: a name, then :key=value or :switch parameters (no spaces or commas). "
        + LossRegistry.kinds.map { "\($0.schema.name): \($0.schema.help)" }.joined(separator: "; ") + ".",
    valueName: "name[:key=value...]")
