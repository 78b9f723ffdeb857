import Collective
import Datasets
import NN

/// Where the distiller gets the teacher's logits for a batch: by running the frozen teacher,
/// or from logits computed once for the whole training set and looked up by sample id.
public protocol TeacherLogitsSource: AnyObject {
    var classes: Int { get }
    /// A hash of what the student learns from (the logits, or the running teacher's weights), kept in
    /// training states so a resume with another teacher is refused.
    var fingerprint: UInt64 { get }
    func reserve(maxBatch: Int)
    /// Plans whatever batches of exactly these sizes need (a running teacher's products).
    func prepare(batchSizes: Set<Int>)
    /// Writes `logits[batch.count, classes]` for the batch's samples.
    func logits(for batch: LocalBatch, into logits: UnsafeMutablePointer<Float>)
    /// The source for a training set made of the samples at `ids` (in that order).
    func restricted(to ids: [Int]) -> Self
}

/// Runs the teacher forward on every batch (its weights are never touched).
public final class RunningTeacher: TeacherLogitsSource {
    public let teacher: Sequential
    public var classes: Int { teacher.outputSize }
    public var fingerprint: UInt64 { Fingerprint.parameters(teacher) }

    public init(_ teacher: Sequential) { self.teacher = teacher }

    public func reserve(maxBatch: Int) { teacher.reserve(maxBatch: maxBatch) }
    public func prepare(batchSizes: Set<Int>) { teacher.prepare(batchSizes: batchSizes) }

    public func logits(for batch: LocalBatch, into logits: UnsafeMutablePointer<Float>) {
        let output = teacher.forward(batch.images, batch: batch.count)
        logits.update(from: output, count: batch.count * classes)
    }

    /// It sees each subset's images as they come.
    public func restricted(to ids: [Int]) -> RunningTeacher { self }
}

/// The teacher's logits for every training sample, `[N, classes]`, indexed by sample id.
public final class CachedTeacherLogits: TeacherLogitsSource {
    public let table: FloatBuffer
    public let classes: Int
    public var count: Int { table.count / classes }
    public var fingerprint: UInt64 { Fingerprint.floats(UnsafeBufferPointer(table.buffer)) }

    public init(table: FloatBuffer, classes: Int) {
        precondition(classes > 0 && table.count % classes == 0, "logit table does not hold whole rows of \(classes)")
        self.table = table
        self.classes = classes
    }

    public func reserve(maxBatch: Int) {}
    public func prepare(batchSizes: Set<Int>) {}

    public func logits(for batch: LocalBatch, into logits: UnsafeMutablePointer<Float>) {
        for (row, id) in batch.sampleIDs.enumerated() {
            (logits + row * classes).update(from: table.pointer + id * classes, count: classes)
        }
    }

    /// The rows of the samples at `ids`, in that order: the logits of a subset of the training set,
    /// indexed by the subset's own sample ids from then on.
    public func restricted(to ids: [Int]) -> CachedTeacherLogits {
        let picked = FloatBuffer(count: max(ids.count * classes, 0))
        for (row, id) in ids.enumerated() {
            precondition(id >= 0 && id < count, "sample \(id) is outside the \(count) rows of teacher logits")
            (picked.pointer + row * classes).update(from: table.pointer + id * classes, count: classes)
        }
        return CachedTeacherLogits(table: picked, classes: classes)
    }

    /// Bytes of workspace per rank for the logit pass: measured on 2 ranks of a 32 MiB L3
    /// (AMD EPYC), batches touching ~40 MB ran at 2.3x the speed of batches of 256 (~320 MB).
    public static let cacheBytes = 32 << 20

    /// Each rank runs the teacher over its contiguous 1/size of `data`, in batches that fit
    /// `cacheBytes`; one allgatherv then gives every rank the whole table, so distillation never
    /// runs the teacher again. `view` changes each gathered batch first (`ViewTeacherLogits`' augmented views).
    public static func compute(teacher: Sequential, data: LabeledImages, communicator: Communicator,
                               view: ((UnsafeMutablePointer<Float>, ArraySlice<Int>) -> Void)? = nil) -> CachedTeacherLogits {
        let batchSize = teacher.forwardBatch(cacheBytes: cacheBytes)
        let classes = teacher.outputSize
        let share = shardRange(total: data.count, rank: communicator.rank, size: communicator.size)
        let mine = FloatBuffer(count: share.count * classes)
        forwardInBatches(teacher, data: data, range: share, batchSize: batchSize, view: view) { logits, _, offset, count in
            (mine.pointer + offset * classes).update(from: logits, count: count * classes)
        }
        let counts = (0..<communicator.size).map {
            shardRange(total: data.count, rank: $0, size: communicator.size).count * classes
        }
        let table = FloatBuffer(count: data.count * classes)
        communicator.allgatherv(send: UnsafeBufferPointer(mine.buffer), receive: table.buffer, counts: counts)
        return CachedTeacherLogits(table: table, classes: classes)
    }
}
