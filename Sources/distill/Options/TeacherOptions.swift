import ArgumentParser
import Datasets
import Distill
import Foundation
import NN

/// Where the teacher's knowledge comes from: a teacher checkpoint (its logits computed once,
/// data-parallel, or reused from their cache) or logits computed elsewhere.
struct TeacherOptions: ParsableArguments {
    @Option(help: "The teacher checkpoint (from train-teacher, run --save-directory or keras-roundtrip.py import).")
    var teacher = "teacher.safetensors"

    @Option(name: .customLong("teacher-logits"),
            help: ArgumentHelp("Use logits computed elsewhere instead of a teacher checkpoint (--teacher is then not read): a safetensors "
                               + "file with one tensor 'logits', or a NumPy .npy array (float32 or float64), of [training samples, classes], "
                               + "row i for training sample i "
                               + "(scripts/keras-roundtrip.py logits writes one from a Keras model).", valueName: "file"))
    var logitsFile: String?

    @Flag(inversion: .prefixedNo,
          help: "Keep the teacher's logits in <teacher>.logits.safetensors and reuse them while the teacher and data match.")
    var logitsCache = true

    /// The data, checked alike on every rank together with `items` and the teacher, and what the teacher gives.
    struct Loaded {
        var train: LabeledImages
        var test: LabeledImages
        /// The teacher's logits for every training sample; nil when a running teacher was asked for.
        var logits: CachedTeacherLogits?
        /// The checkpoint's teacher (every rank holds rank 0's weights); nil with --teacher-logits.
        var model: Sequential?
        var description: ModelDescription?
        /// One line naming the teacher, for logs and reports.
        var summary: String
    }

    /// Loads the data and the teacher; `computeLogits` false leaves the logits to a running teacher.
    func load(data: DataOptions, settings: RecipeSettings, session: Session, agreeing items: [(name: String, hash: UInt64)],
              computeLogits: Bool = true) throws -> Loaded {
        if let logitsFile {
            let (train, test) = try data.load(on: session.communicator, agreeing: items)
            let recipe = Recipe(settings: settings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
            try recipe.checkModels([.student])
            let classes = try settings.studentModel.build(gemm: session.gemm).outputSize
            let logits = try TeacherLogitsFile.loadExternal(from: logitsFile, count: train.count, classes: classes)
            try session.communicator.checkAgreement([("the teacher logits file \(logitsFile)", logits.fingerprint)])
            return Loaded(train: train, test: test, logits: logits, model: nil, description: nil,
                          summary: "logits from \(logitsFile), \(train.count) x \(classes)")
        }
        let loaded = try Checkpoint.load(from: teacher, expecting: .teacher, gemm: session.gemm)
        let (train, test) = try data.load(on: session.communicator, agreeing: items + [
            ("the teacher file \(teacher) (\(loaded.summary))", loaded.description.contentHash ^ parameterHash(loaded.model)),
        ])
        // Every rank uses rank 0's copy of the teacher.
        session.communicator.broadcast(loaded.model.parameters.values.buffer, root: 0)
        var teacherSettings = settings
        teacherSettings.teacherModel = loaded.description
        let recipe = Recipe(settings: teacherSettings, communicator: session.communicator, gemm: session.gemm, train: train, test: test)
        try recipe.checkModels([.student], teacher: loaded.model)
        let logits = computeLogits
            ? try teacherLogits(loaded.model, teacherPath: logitsCache ? teacher : nil, recipe: recipe, session: session) : nil
        return Loaded(train: train, test: test, logits: logits, model: loaded.model, description: loaded.description,
                      summary: "\(teacher) (\(loaded.description.name), \(loaded.model.parameterCount) parameters)")
    }
}
