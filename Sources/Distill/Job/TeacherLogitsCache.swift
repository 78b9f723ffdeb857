import Foundation
import NN

/// The teacher's logits for the training set: from `<teacherPath>.logits.safetensors` when it was
/// made by this teacher for this data and is intact on every rank; computed otherwise (and kept
/// there by rank 0 when `teacherPath` is given). The ranks agree on the choice with one allreduce,
/// so none skips the allgatherv the others take.
public func teacherLogits(_ model: Sequential, teacherPath: String?, recipe: Recipe, context: JobContext) throws -> CachedTeacherLogits {
    let path = teacherPath.map(TeacherLogitsFile.path(forTeacher:))
    let fingerprint = path == nil ? nil : TeacherLogitsFile.fingerprint(teacher: model, data: recipe.train)
    let lookup = try path.flatMap { path in
        try fingerprint.map { try TeacherLogitsFile.load(from: path, fingerprint: $0, count: recipe.train.count, classes: model.outputSize) }
    }
    if let cached = TeacherLogitsFile.agreed(lookup, communicator: context.communicator), let path {
        context.log("teacher logits: reused \(path)")
        return cached
    }
    if let path, case .failure(.damaged(let why)) = lookup {
        context.log("teacher logits: \(path) not used: \(why); recomputing")
    }
    let clock = Date()
    let logits = recipe.teacherLogits(model)
    context.log("teacher logits for \(logits.count) training samples computed once in \(fixed(Date().timeIntervalSince(clock), 1)) s")
    if let path, let fingerprint { TeacherLogitsFile.keep(logits, fingerprint: fingerprint, at: path, communicator: context.communicator, log: context.log) }
    return logits
}

/// What a distilled student learns from: the cached logits (`teacherLogits`), or, when the students
/// train on augmented views, the teacher itself run in inference mode on each step's batch, so it
/// sees the very view the student sees (consistent teaching; a cache would hold the plain images').
public func teachingSource(_ model: Sequential, teacherPath: String?, recipe: Recipe, context: JobContext) throws -> TeacherLogitsSource {
    guard recipe.augmentsStudents else { return try teacherLogits(model, teacherPath: teacherPath, recipe: recipe, context: context) }
    let why = recipe.settings.augment(.student) != AugmentSpecification.none ? "--augment \(recipe.settings.augment)" : "the student's augmentation layers"
    context.log("teacher: runs on every augmented batch (\(why)), in inference mode")
    return RunningTeacher(model)
}
