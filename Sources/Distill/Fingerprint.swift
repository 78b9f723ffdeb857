import Foundation
import Datasets
import NN

/// Every content hash a job compares across ranks or keeps in a file, each a `ContentHash` over the
/// parts it names, in order. The values are part of the files (logit caches, sweep CSVs, states):
/// written once here, and never changed.
public enum Fingerprint {
    /// A textual description, e.g. of the settings that affect training.
    public static func text(_ description: String) -> UInt64 {
        var hash = ContentHash()
        hash.mix(description)
        return hash.value
    }

    /// The bits of `values` (a logit table, a model's parameters).
    public static func floats(_ values: UnsafeBufferPointer<Float>) -> UInt64 {
        var hash = ContentHash()
        hash.mix(values)
        return hash.value
    }

    /// A model's parameter bits (what a model file loaded to).
    public static func parameters(_ model: Sequential) -> UInt64 { floats(UnsafeBufferPointer(model.parameters.values.buffer)) }

    /// A dataset in full: its shape, every pixel and every label, in order.
    public static func data(_ data: LabeledImages) -> UInt64 {
        var hash = ContentHash()
        hash.mix(UInt64(data.height))
        hash.mix(UInt64(data.width))
        hash.mix(UInt64(data.channels))
        hash.mix(data.images)
        hash.mix(data.labels)
        return hash.value
    }

    /// What a logit cache was made from: the teacher's parameter bits, the training images and labels.
    public static func teacherLogits(teacher: Sequential, data: LabeledImages) -> String {
        var hash = ContentHash()
        hash.mix(UnsafeBufferPointer(teacher.parameters.values.buffer))
        hash.mix(data.images)
        hash.mix(data.labels)
        return hash.hex
    }

    /// What makes two sweeps' runs comparable: the student model and training settings, the teacher's logits and the data.
    public static func sweep(settings: String, logits: CachedTeacherLogits, train: LabeledImages, test: LabeledImages) -> String {
        var hash = ContentHash()
        hash.mix(settings)
        hash.mix(SweepData.splitSeed)
        hash.mix(UnsafeBufferPointer(logits.table.buffer))
        for data in [train, test] {
            hash.mix(data.sampleShape.map { UInt64($0) }.reduce(0) { $0 &* 31 &+ $1 })
            hash.mix(data.images)
            hash.mix(data.labels)
        }
        return hex(hash.value)
    }

    /// 16 lowercase hex digits, as the files keep a fingerprint.
    public static func hex(_ value: UInt64) -> String { String(format: "%016llx", value) }
}
