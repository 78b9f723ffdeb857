import NN

/// A trained model on disk: its parameters as a safetensors file (tensors named by layer, e.g.
/// `conv2d.kernel`), plus metadata that carries the model's Keras JSON and role, so the file
/// alone rebuilds it, and a checksum over both (files from before 0.6 and other tools may lack it).
public enum Checkpoint {
    public static let format = "swift-distill/1"
    /// Written into every file's metadata, with the settings that made the model.
    public static let producer = "swift-distill \(SwiftDistill.version)"

    /// A model read back: the model, the description it was built from, its role and the metadata.
    public struct Loaded {
        public let model: Sequential
        public let description: ModelDescription
        public let role: ModelRole
        public let metadata: [String: String]
        /// e.g. "teacher (student model)".
        public var summary: String { "\(description.name) (\(role.rawValue) model)" }
    }

    /// `extra` metadata (the settings that made the model, its training seconds) is kept alongside.
    public static func save(_ model: Sequential, role: ModelRole, to path: String, extra: [String: String] = [:]) throws {
        guard let description = model.description else {
            throw CheckpointError(path: path, "the model has no description to save with it (build it from a ModelDescription)")
        }
        try SafeTensors.writeChecksummed(model.parameters.namedTensors(), metadata: extra.merging([
            "format": format, "model": description.json, "role": role.rawValue, "producer": producer,
        ]) { _, fixed in fixed }, to: path)
    }

    /// Rebuilds the model the file describes and loads its weights; throws a message naming the
    /// file when it is not a swift-distill checkpoint, or its tensors do not fit its model.
    /// Files written before checkpoints carried their model name a preset (`architecture`).
    public static func load(from path: String, expecting expectedRole: ModelRole? = nil, gemm: GEMMBackend) throws -> Loaded {
        let (tensors, metadata) = try SafeTensors.read(from: path)
        if SafeTensors.checksumMatches(tensors, metadata) == false {
            throw CheckpointError(path: path, "its tensors or metadata do not match their checksum \(metadata["checksum"]!) (damaged or edited); "
                + "a model file is not edited by hand: export it (keras-roundtrip.py export), change it in Keras, import it again")
        }
        guard metadata["format"] == format else {
            throw CheckpointError(path: path, "metadata format is \(metadata["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)'")
        }
        guard let roleName = metadata["role"], let role = ModelRole(rawValue: roleName) else {
            throw CheckpointError(path: path, "unknown role \(metadata["role"] ?? "(missing)"); expected teacher or student")
        }
        if let expectedRole, expectedRole != role {
            throw CheckpointError(path: path, "holds a \(role.rawValue), expected a \(expectedRole.rawValue)")
        }
        let description: ModelDescription
        if let json = metadata["model"] {
            do {
                description = try ModelDescription(json: Array(json.utf8), source: "the model in its metadata")
            } catch let error as ModelError {
                throw CheckpointError(path: path, error.description)
            }
        } else if let name = metadata["architecture"], let preset = Architecture(rawValue: name) {
            description = preset.description(role)
        } else {
            throw CheckpointError(path: path, "metadata holds no model (and no preset architecture); expected a swift-distill checkpoint")
        }
        let model: Sequential
        do {
            model = try description.build(gemm: gemm)
        } catch let error as ModelError {
            throw CheckpointError(path: path, "its model does not build: \(error.description)")
        }
        try model.parameters.load(tensors, source: path)
        for entry in model.parameters.entries {
            let values = UnsafeBufferPointer(start: model.parameters.values.pointer + entry.offset, count: entry.count)
            if let bad = firstNonFinite(values) {
                throw CheckpointError(path: path, "tensor '\(entry.name)' holds \(bad.value) at index \(bad.index); the weights are not usable")
            }
        }
        return Loaded(model: model, description: description, role: role, metadata: metadata)
    }
}
