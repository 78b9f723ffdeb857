import Foundation
import NN

/// How several teachers' logits become one teacher's: the weighted mean of their logits, or of their
/// probabilities at a temperature, turned back into logits (`T log(mean)`, whose softmax at T is that mean).
public enum LogitCombination: Sendable, Equatable {
    case logits
    case probabilities(temperature: Double)

    /// `tables[k]` (each `[rows, classes]`) combined with `weights` (positive, normalised here), in Double.
    public func combine(_ tables: [CachedTeacherLogits], weights: [Double]) -> CachedTeacherLogits {
        precondition(!tables.isEmpty && tables.count == weights.count, "one weight per table")
        let (classes, count) = (tables[0].classes, tables[0].table.count)
        precondition(tables.allSatisfy { $0.classes == classes && $0.table.count == count }, "tables of one shape")
        let total = weights.reduce(0, +)
        let w = weights.map { $0 / total }
        let combined = FloatBuffer(count: count)
        var row = [Double](repeating: 0, count: classes), member = [Double](repeating: 0, count: classes)
        for start in stride(from: 0, to: count, by: classes) {
            for j in 0..<classes { row[j] = 0 }
            for (table, weight) in zip(tables, w) {
                let logits = table.table.pointer + start
                if case let .probabilities(t) = self {
                    member.withUnsafeMutableBufferPointer { softmaxInDouble(logits, temperature: t, into: $0.baseAddress!, classes: classes) }
                } else {
                    for j in 0..<classes { member[j] = Double(logits[j]) }
                }
                for j in 0..<classes { row[j] += weight * member[j] }
            }
            if case let .probabilities(t) = self { for j in 0..<classes { row[j] = t * log(row[j]) } }
            for j in 0..<classes { combined.pointer[start + j] = Float(row[j]) }
        }
        return CachedTeacherLogits(table: combined, classes: classes)
    }

    public var description: String {
        switch self {
        case .logits: return "mean of logits"
        case let .probabilities(t): return "mean of probabilities at T \(String(format: "%g", t))"
        }
    }
}

extension TeacherSource {
    /// Loads every member (each checked against the data and the student, its logits computed once or
    /// reused from its cache) and combines their logits; the ranks agree on each member and on the result.
    func loadEnsemble(_ members: [TeacherSource], weights: [Double], combination: LogitCombination, data: DataSource,
                      settings: RecipeSettings, context: JobContext, agreeing items: [(name: String, hash: UInt64)],
                      computeLogits: Bool) throws -> LoadedTeacher {
        guard computeLogits else {
            throw TrainingError("several teachers are combined from their logits, computed once on the plain images: not with "
                + "--run-teacher or --augment (a teacher run on every view)")
        }
        guard members.count == weights.count, weights.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw TrainingError("--teacher-weights: \(weights.count) weights for \(members.count) teachers; give one positive weight per teacher")
        }
        var loaded = [LoadedTeacher]()
        for member in members {
            do {
                let one = try member.load(data: data, settings: settings, context: context, agreeing: items, computeLogits: true)
                loaded.append(one)
            } catch let error as TrainingError where !error.description.contains(member.name) {
                throw TrainingError("teacher \(member.name): \(error.description)")   // which member, where the message does not say
            }
        }
        let combined = combination.combine(loaded.map { $0.logits! }, weights: weights)
        try context.communicator.checkAgreement([("the combined teacher logits", combined.fingerprint)])
        let total = weights.reduce(0, +)
        let parts = zip(loaded, weights).map { "\($0.summary) x \(String(format: "%.3g", $1 / total))" }
        return LoadedTeacher(train: loaded[0].train, test: loaded[0].test, logits: combined, model: nil, description: nil,
                             summary: "\(members.count) teachers, \(combination.description): " + parts.joined(separator: "; "),
                             ensemble: (loaded.map(\.model), weights, combination))
    }

    /// The file it reads.
    public var name: String {
        switch self {
        case let .checkpoint(path, _), let .logitsFile(path): return path
        case let .ensemble(members, _, _): return members.map(\.name).joined(separator: ", ")
        }
    }
}
