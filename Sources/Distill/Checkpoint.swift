import NN

/// A trained model on disk: its parameters as a safetensors file (tensors named by layer, e.g.
/// `conv2d.kernel`), plus metadata naming the architecture and role so it can be rebuilt.
public enum Checkpoint {
    public static let format = "swift-distill/1"

    /// `extra` metadata (the settings that made the model, its training seconds) is kept alongside.
    public static func save(_ model: Sequential, architecture: Architecture, role: Architecture.Role, to path: String,
                            extra: [String: String] = [:]) throws {
        try SafeTensors.write(model.parameters.namedTensors(), metadata: extra.merging([
            "format": format, "architecture": architecture.rawValue, "role": role.rawValue,
        ]) { _, fixed in fixed }, to: path)
    }

    /// Rebuilds the model the file describes and loads its weights; throws a message naming the
    /// file when it is not a swift-distill checkpoint, or its tensors do not fit the architecture.
    public static func load(from path: String, expecting expectedRole: Architecture.Role? = nil, gemm: GEMMBackend)
        throws -> (model: Sequential, architecture: Architecture, role: Architecture.Role, metadata: [String: String])
    {
        let (tensors, metadata) = try SafeTensors.read(from: path)
        guard metadata["format"] == format else {
            throw CheckpointError(path: path, "metadata format is \(metadata["format"].map { "'\($0)'" } ?? "missing"), expected '\(format)'")
        }
        guard let name = metadata["architecture"], let architecture = Architecture(rawValue: name) else {
            throw CheckpointError(path: path, "unknown architecture \(metadata["architecture"] ?? "(missing)"); expected one of \(Architecture.allCases.map(\.rawValue))")
        }
        guard let roleName = metadata["role"], let role = Architecture.Role(rawValue: roleName) else {
            throw CheckpointError(path: path, "unknown role \(metadata["role"] ?? "(missing)"); expected teacher or student")
        }
        if let expectedRole, expectedRole != role {
            throw CheckpointError(path: path, "holds a \(role.rawValue), expected a \(expectedRole.rawValue)")
        }
        let model = try architecture.model(role, gemm: gemm)
        try model.parameters.load(tensors, source: path)
        for entry in model.parameters.entries {
            let values = UnsafeBufferPointer(start: model.parameters.values.pointer + entry.offset, count: entry.count)
            if let bad = firstNonFinite(values) {
                throw CheckpointError(path: path, "tensor '\(entry.name)' holds \(bad.value) at index \(bad.index); the weights are not usable")
            }
        }
        return (model, architecture, role, metadata)
    }
}
