import Foundation
import NN

/// A sweep made ready from plain values: the data and the teacher loaded (every rank agreeing on
/// them, on the settings and on the lists), the validation split held out, and the job that trains
/// the runs not yet in `csvPath`.
public struct SweepSetup {
    public var job: SweepJob
    public let data: SweepData
    /// The teacher, with its test accuracy when it is a model.
    public let teacherLine: String
    public let studentParameters: Int

    /// `settings` gives the student model, batch size and learning rate of every run.
    /// `viewDirectory`: where the teacher's logits of `--augment`'s views are kept (used with augmentation only).
    public init(grid: SweepGrid, confirmSeeds: [UInt64], settings: RecipeSettings, validationFraction: Double, csvPath: String,
                teacher: TeacherSource, data source: DataSource, context: JobContext, viewDirectory: String) throws {
        if let layer = settings.studentModel.layers.first(where: { ModelDescription.augmentationClassNames.contains($0.className) }) {
            throw TrainingError("the student's layer '\(layer.name)' augments in its forward pass, whose views a sweep's cached teacher "
                + "logits do not hold: use the sweep's --augment (each view's logits computed once) instead")
        }
        // The loss is one of the lists (`grid.losses`), not part of the identity: a sweep of kd alone keeps its fingerprint.
        var shared = settings
        shared.loss = LossRegistry.defaultName
        let identity = "student model \(settings.studentModel.name) #\(String(settings.studentModel.contentHash, radix: 16)), "
            + "batch \(settings.batchSize), learning rate \(settings.learningRate), validation fraction \(validationFraction)" + shared.nonDefault
        // The lists are not part of the sweep's identity (a later run may extend them), but the ranks must share them.
        let lists = "losses \(grid.losses), alpha \(grid.alphas), temperature \(grid.temperatures), epochs \(grid.epochs), seeds \(grid.seeds), "
            + "train fractions \(grid.trainFractions), confirm seeds \(confirmSeeds)"
        let loaded = try teacher.load(data: source, settings: settings, context: context,
                                      agreeing: [("the sweep settings (\(identity))", Fingerprint.text(identity)),
                                                 ("the sweep's lists (\(lists))", Fingerprint.text(lists))])
        guard let logits = loaded.logits else { throw TrainingError("no teacher logits: give --teacher or --teacher-logits") }
        let augments = settings.augment != AugmentSpecification.none
        if augments, loaded.model == nil {
            throw TrainingError("--augment \(settings.augment): the teacher's logits of each view are computed by its model: give one --teacher FILE, "
                + "not --teacher-logits or several teachers")
        }
        var teacherLine = loaded.summary
        // The teacher's test logits (one pass per model): its test accuracy, and the confirmation's agreement.
        let testLogits = loaded.logits(of: loaded.test, communicator: context.communicator)
        if let testLogits {
            let correct = loaded.test.labels.withUnsafeBufferPointer {
                correctCount(logits: testLogits.table.pointer, labels: $0.baseAddress!, rows: loaded.test.count, classes: testLogits.classes)
            }
            teacherLine += ", test accuracy \(percent(Double(correct) / Double(max(loaded.test.count, 1))))"
        }
        self.teacherLine = teacherLine
        studentParameters = try settings.studentModel.plan().parameterCount   // checked against the data and teacher by load
        data = try SweepData(train: loaded.train, logits: logits, test: loaded.test, testLogits: testLogits, validationFraction: validationFraction)
        var trainer = SweepTrainer(data: data, settings: settings, gemm: context.gemm)
        if augments, let model = loaded.model { trainer.views = (model, ViewCache(directory: viewDirectory)) }
        job = SweepJob(grid: grid, confirmSeeds: confirmSeeds, trainer: trainer,
                       communicator: context.communicator, csvPath: csvPath,
                       fingerprint: Fingerprint.sweep(settings: identity, logits: logits, train: loaded.train, test: loaded.test))
        (job.log, job.stopRequested) = (context.log, context.stopRequested)
    }

    /// The report's lines on the teacher, the student and the data.
    public func reportContext(dataSource: String) -> [String] {
        let settings = job.trainer.settings
        return ["Teacher: \(teacherLine).",
                "Student: \(settings.studentModel.name), \(studentParameters) parameters; batch \(settings.batchSize), "
                    + "\(settings.rule(.student).description)" + (settings.augment == AugmentSpecification.none ? "" : "; augment \(settings.augment) "
                    + "(the teacher's logits of each seed's views computed once, shared by its runs)") + ".",
                "Data: \(dataSource); training pool \(data.pool.count) samples, validation \(data.validation.count) "
                    + "(held out of the training set, class-balanced), test \(data.test.count)."]
    }
}
