import Collective
import Datasets
import Foundation
import NN

/// Where `--view-cache` keeps the teacher's logits of augmented views, and where progress goes.
public struct ViewCache {
    public let directory: String
    public let log: (String) -> Void

    public init(directory: String, log: @escaping (String) -> Void = { _ in }) { (self.directory, self.log) = (directory, log) }
}

/// `--view-cache DIR`: consistent teaching without the teacher in every step. A view of `--augment` is a
/// function of the augmentation's seed, the epoch and the sample's index alone (`DataAugmentation.draw`), not of
/// the batch, the rank or the student, so the teacher's logits of every view of one epoch are one table
/// `[samples, classes]`: computed once (data-parallel, in inference mode, in cache-sized batches) and kept in DIR
/// as `views-<key>-e<epoch>.safetensors`, reused by every student that sees the same views (the same training set,
/// augmentation, seed and teacher: the students of one seed, with every loss, alpha and T, and their scratch twins).
/// A step then reads its rows, as `CachedTeacherLogits` does for the plain images.
public final class ViewTeacherLogits: TeacherLogitsSource {
    /// One table per epoch, from epoch 1.
    public let tables: [CachedTeacherLogits]
    public let classes: Int
    public let fingerprint: UInt64

    init(tables: [CachedTeacherLogits], fingerprint: UInt64) {
        (self.tables, self.fingerprint) = (tables, fingerprint)
        classes = tables.first?.classes ?? 0
    }

    public func reserve(maxBatch: Int) {}
    public func prepare(batchSizes: Set<Int>) {}

    public func logits(for batch: LocalBatch, into logits: UnsafeMutablePointer<Float>) {
        tables[batch.epoch - 1].logits(for: batch, into: logits)
    }

    /// Views are of the final training set (their draws are keyed on its indices): made after any split, never restricted.
    public func restricted(to ids: [Int]) -> ViewTeacherLogits {
        preconditionFailure("views are made for the final training set, after the validation split and the train fraction")
    }

    /// Tables above this many bytes in all are refused (they are held in memory for the run).
    public static let byteLimit = 2 << 30

    /// The tables of epochs `1...epochs` of `augmentation`'s views of `data` (its spec `augment`, for the key), each
    /// read from `cache.directory` when it was made by this teacher for these views and is intact on every rank,
    /// computed otherwise (and kept there by rank 0).
    public static func make(teacher: Sequential, data: LabeledImages, augmentation: DataAugmentation, augment: String, epochs: Int,
                            cache: ViewCache, communicator: Communicator) throws -> ViewTeacherLogits {
        let bytes = epochs * data.count * teacher.outputSize * 4
        guard bytes <= byteLimit else {
            throw TrainingError("--view-cache: \(epochs) epochs of \(data.count) x \(teacher.outputSize) logits take \(bytes >> 20) MiB, over the "
                + "\(byteLimit >> 20) MiB held in memory; run the teacher on every batch instead (no --view-cache)")
        }
        try FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true)
        let base = "\(TeacherLogitsFile.fingerprint(teacher: teacher, data: data)), augment \(augment), seed \(augmentation.seed)"
        let key = String(Fingerprint.text(base), radix: 16)
        var tables: [CachedTeacherLogits] = []
        let clock = Date()
        var (reused, computed) = (0, 0)
        for epoch in 1...epochs {
            let started = Date()
            let path = (cache.directory as NSString).appendingPathComponent("views-\(key)-e\(epoch).safetensors")
            let fingerprint = "\(base), epoch \(epoch)"
            let lookup = try? TeacherLogitsFile.load(from: path, fingerprint: fingerprint, count: data.count, classes: teacher.outputSize)
            if let found = TeacherLogitsFile.agreed(lookup, communicator: communicator) {
                tables.append(found)
                reused += 1
                continue
            }
            let table = CachedTeacherLogits.compute(teacher: teacher, data: data, communicator: communicator) { images, ids in
                augmentation.apply(images, sampleIDs: ids, epoch: epoch, height: data.height, width: data.width, channels: data.channels)
                guard augmentation.mixup != nil else { return }
                var (partners, weights) = ([Int32](repeating: 0, count: ids.count), [Float](repeating: 0, count: ids.count))
                _ = augmentation.mix(images, sampleIDs: ids, epoch: epoch, data: data, partnerLabels: &partners, weights: &weights)
            }
            TeacherLogitsFile.keep(table, fingerprint: fingerprint, at: path, communicator: communicator, log: cache.log)
            tables.append(table)
            computed += 1
            cache.log("teacher logits of epoch \(epoch)'s augmented views computed in \(fixed(Date().timeIntervalSince(started), 1)) s")
        }
        var hash = ContentHash()
        for table in tables { hash.mix(UnsafeBufferPointer(table.table.buffer)) }
        try communicator.checkAgreement([("the teacher's logits of the augmented views", hash.value)])
        cache.log("teacher logits of the augmented views: \(epochs) epoch(s) of \(data.count) samples, \(reused) reused from \(cache.directory), "
            + "\(computed) computed (\(fixed(Date().timeIntervalSince(clock), 1)) s)")
        return ViewTeacherLogits(tables: tables, fingerprint: hash.value)
    }
}
