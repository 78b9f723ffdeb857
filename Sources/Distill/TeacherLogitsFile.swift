import Collective
import Foundation
import Datasets
import NN

/// Teacher logits saved next to the teacher's checkpoint, reused only when they were computed by
/// the same weights for the same training set (a fingerprint of both is kept in the metadata) and
/// their contents are intact (a checksum of the table is kept too).
public enum TeacherLogitsFile {
    public static func path(forTeacher checkpoint: String) -> String { checkpoint + ".logits.safetensors" }

    /// What the cache was made from (`Fingerprint.teacherLogits`).
    public static func fingerprint(teacher: Sequential, data: LabeledImages) -> String { Fingerprint.teacherLogits(teacher: teacher, data: data) }

    /// A checksum of the table, in the cache's metadata.
    static func checksum(_ values: UnsafeBufferPointer<Float>) -> String { Fingerprint.hex(Fingerprint.floats(values)) }

    public static func save(_ logits: CachedTeacherLogits, fingerprint: String, to path: String) throws {
        let tensor = NamedTensor(name: "logits", shape: [logits.count, logits.classes], values: logits.table.array)
        try SafeTensors.write([tensor], metadata: [
            "fingerprint": fingerprint, "checksum": checksum(UnsafeBufferPointer(logits.table.buffer)),
        ], to: path)
    }

    /// Why a cache file was not used.
    public enum Miss: Error, CustomStringConvertible {
        case absent, stale, damaged(String)
        public var description: String {
            switch self {
            case .absent: return "no cache"
            case .stale: return "computed by another teacher or for other data"
            case .damaged(let why): return why
            }
        }
    }

    /// The saved logits when the file exists, its fingerprint matches, it holds `[count, classes]` and its
    /// contents match their checksum; a `Miss` otherwise (the caller recomputes). Non-finite logits in a
    /// file that passes those checks are an error naming the file.
    public static func load(from path: String, fingerprint: String, count: Int, classes: Int) throws -> Result<CachedTeacherLogits, Miss> {
        guard let (tensors, metadata) = try? SafeTensors.read(from: path) else { return .failure(.absent) }
        guard metadata["fingerprint"] == fingerprint else { return .failure(.stale) }
        guard tensors.count == 1, let tensor = tensors.first, tensor.name == "logits", tensor.shape == [count, classes] else {
            return .failure(.damaged("holds \(tensors.map { "\($0.name) \($0.shape)" }), expected logits [\(count), \(classes)]"))
        }
        let table = FloatBuffer(count: tensor.values.count)
        tensor.values.withUnsafeBufferPointer { table.pointer.update(from: $0.baseAddress!, count: $0.count) }
        let contents = UnsafeBufferPointer(table.buffer)
        guard metadata["checksum"] == checksum(contents) else {
            return .failure(.damaged("its contents do not match their checksum \(metadata["checksum"] ?? "(missing)")"))
        }
        if let bad = firstNonFinite(contents) {
            throw CheckpointError(path: path, "logit \(bad.index) (row \(bad.index / classes)) is \(bad.value); delete the file to recompute it")
        }
        return .success(CachedTeacherLogits(table: table, classes: classes))
    }

    /// The table of `lookup` (a `load`) when every rank found it usable; nil otherwise. One allreduce, so every rank
    /// reuses or every rank computes, and none skips a collective the others take.
    static func agreed(_ lookup: Result<CachedTeacherLogits, Miss>?, communicator: Communicator) -> CachedTeacherLogits? {
        let found = try? lookup?.get()
        var hits = [found == nil ? 0.0 : 1.0]
        communicator.allreduceSum(&hits)
        return hits[0] == Double(communicator.size) ? found : nil
    }

    /// Keeps `logits` at `path` on rank 0; a failure to write is a warning on `log`, not an error (the run has its logits).
    static func keep(_ logits: CachedTeacherLogits, fingerprint: String, at path: String, communicator: Communicator, log: (String) -> Void) {
        guard communicator.isRoot else { return }
        do { try save(logits, fingerprint: fingerprint, to: path) } catch { log("warning: could not keep \(path): \(error)") }
    }

    /// Logits computed elsewhere (Keras: `keras-roundtrip.py logits`): a safetensors file with one
    /// tensor `logits`, or a NumPy `.npy` array (`np.save`, float32 or float64), of `[count, classes]`,
    /// row `i` for training sample `i`, all finite. Anything else is an error naming the file, before
    /// any training.
    public static func loadExternal(from path: String, count: Int, classes: Int) throws -> CachedTeacherLogits {
        let tensor: NamedTensor
        if let start = FileHandle(forReadingAtPath: path).flatMap({ try? $0.read(upToCount: 6) }), NPYArray.hasMagic(start) {
            let array: NPYArray
            do { array = try NPYArray.read(path: path) } catch let error as DatasetError { throw CheckpointError(path: path, error.reason) }
            guard array.shape.count == 2, let values = array.floats() else {
                throw CheckpointError(path: path, "is a .npy array of \(array.dtype) \(array.shape); expected floats [samples, classes]")
            }
            tensor = NamedTensor(name: "logits", shape: array.shape, values: values)
        } else {
            let tensors: [NamedTensor]
            do {
                tensors = try SafeTensors.read(from: path).tensors
            } catch let error as CheckpointError {
                throw CheckpointError(path: path, "\(error.message) (--teacher-logits takes a safetensors file with one tensor 'logits' "
                    + "or a .npy array)")
            }
            guard tensors.count == 1, let only = tensors.first, only.name == "logits", only.shape.count == 2 else {
                throw CheckpointError(path: path, "holds \(tensors.map { "\($0.name) \($0.shape)" }); expected one tensor 'logits' [samples, classes]")
            }
            tensor = only
        }
        guard tensor.shape[0] == count else {
            throw CheckpointError(path: path, "holds logits for \(tensor.shape[0]) samples, but the training set has \(count) "
                + "(row i is training sample i; with --train-limit, the first that many)")
        }
        guard tensor.shape[1] == classes else {
            throw CheckpointError(path: path, "holds \(tensor.shape[1]) logits per sample, but the student has \(classes) classes")
        }
        let table = FloatBuffer(count: tensor.values.count)
        tensor.values.withUnsafeBufferPointer { table.pointer.update(from: $0.baseAddress!, count: $0.count) }
        if let bad = firstNonFinite(UnsafeBufferPointer(table.buffer)) {
            throw CheckpointError(path: path, "logit \(bad.index) (row \(bad.index / classes)) is \(bad.value)")
        }
        return CachedTeacherLogits(table: table, classes: classes)
    }
}
