import Datasets
import NN

/// Teacher logits saved next to the teacher's checkpoint, reused only when they were computed by
/// the same weights for the same training set (a fingerprint of both is kept in the metadata).
public enum TeacherLogitsFile {
    public static func path(forTeacher checkpoint: String) -> String { checkpoint + ".logits.safetensors" }

    /// FNV-1a over the teacher's parameter bits, the training images and labels, and the sample count.
    public static func fingerprint(teacher: Sequential, data: LabeledImages) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            hash ^= value
            hash &*= 0x0000_0100_0000_01B3
        }
        for i in 0..<teacher.parameters.count { mix(UInt64(teacher.parameters.values.pointer[i].bitPattern)) }
        for pixel in data.images { mix(UInt64(pixel.bitPattern)) }
        for label in data.labels { mix(UInt64(UInt32(bitPattern: label))) }
        mix(UInt64(data.count))
        return String(hash, radix: 16)
    }

    public static func save(_ logits: CachedTeacherLogits, fingerprint: String, to path: String) throws {
        let tensor = NamedTensor(name: "logits", shape: [logits.count, logits.classes], values: logits.table.array)
        try SafeTensors.write([tensor], metadata: ["fingerprint": fingerprint], to: path)
    }

    /// The saved logits when the file exists, its fingerprint matches and it holds `[count, classes]`;
    /// nil otherwise (a stale or damaged cache is recomputed, not an error).
    public static func load(from path: String, fingerprint: String, count: Int, classes: Int) -> CachedTeacherLogits? {
        guard let (tensors, metadata) = try? SafeTensors.read(from: path), metadata["fingerprint"] == fingerprint,
              tensors.count == 1, let tensor = tensors.first, tensor.name == "logits", tensor.shape == [count, classes]
        else { return nil }
        let table = FloatBuffer(count: tensor.values.count)
        tensor.values.withUnsafeBufferPointer { table.pointer.update(from: $0.baseAddress!, count: $0.count) }
        return CachedTeacherLogits(table: table, classes: tensor.shape[1])
    }
}
