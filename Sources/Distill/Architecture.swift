import NN

/// The model shapes the CLI offers. Input `[28, 28, 1]`, output 10 logits.
public enum Architecture: String, CaseIterable, Sendable {
    /// The Keras example: Conv2D(f1, 3x3, s2, same) -> LeakyReLU(0.2) -> MaxPooling2D(2x2, s1, same)
    /// -> Conv2D(f2, 3x3, s2, same) -> Flatten -> Dense(10); teacher 256/512 filters, student 16/32.
    case keras
    /// The same with a hidden Dense(units) -> LeakyReLU(0.2) before the output: 256 units in the
    /// teacher, 32 in the student.
    case hidden

    public enum Role: String, CaseIterable, Sendable { case teacher, student }

    public static let inputShape = [28, 28, 1]
    public static let classes = 10

    /// The model for `role`, its matrix products on `gemm`.
    public func model(_ role: Role, gemm: GEMMBackend) throws -> Sequential {
        let (f1, f2, units) = role == .teacher ? (256, 512, 256) : (16, 32, 32)
        var layers: [Layer] = [
            Conv2D(filters: f1, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: gemm),
            LeakyReLU(alpha: 0.2),
            MaxPooling2D(poolSize: (2, 2), strides: (1, 1), padding: .same),
            Conv2D(filters: f2, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: gemm),
            Flatten(),
        ]
        if self == .hidden { layers += [Dense(units: units, gemm: gemm), LeakyReLU(alpha: 0.2)] }
        layers.append(Dense(units: Architecture.classes, gemm: gemm))
        return try Sequential(inputShape: Architecture.inputShape, layers: layers)
    }
}
