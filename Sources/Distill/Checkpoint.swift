import NN

/// A trained model on disk: its parameters as a safetensors file (tensors named by layer, e.g.
/// `conv2d.kernel`), plus metadata naming the architecture and role so it can be rebuilt.
public enum Checkpoint {
    public static let format = "swift-distill/1"

    public static func save(_ model: Sequential, architecture: Architecture, role: Architecture.Role, to path: String) throws {
        try SafeTensors.write(model.parameters.namedTensors(), metadata: [
            "format": format, "architecture": architecture.rawValue, "role": role.rawValue,
        ], to: path)
    }

    /// Rebuilds the model the file describes and loads its weights; throws a message naming the
    /// file when it is not a swift-distill checkpoint, or its tensors do not fit the architecture.
    public static func load(from path: String, expecting expectedRole: Architecture.Role? = nil, gemm: GEMMBackend)
        throws -> (model: Sequential, architecture: Architecture, role: Architecture.Role)
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
        return (model, architecture, role)
    }
}
