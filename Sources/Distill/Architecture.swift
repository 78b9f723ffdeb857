import NN

/// The model presets the CLI offers: the Keras example's models as Keras JSON files
/// (`Sources/Distill/Presets/<preset>-<role>.json`, made by `scripts/make-preset-models.py`
/// and compiled into the binary). Input `[28, 28, 1]`, output 10 logits.
public enum Architecture: String, CaseIterable, Sendable {
    /// The Keras example: Conv2D(f1, 3x3, s2, same) -> LeakyReLU(0.2) -> MaxPooling2D(2x2, s1, same)
    /// -> Conv2D(f2, 3x3, s2, same) -> Flatten -> Dense(10); teacher 256/512 filters, student 16/32.
    case keras
    /// The same with a hidden Dense(units) -> LeakyReLU(0.2) before the output: 256 units in the
    /// teacher, 32 in the student.
    case hidden

    /// The preset's model description for `role`.
    public func description(_ role: ModelRole) -> ModelDescription {
        let bytes: [UInt8]
        switch (self, role) {
        case (.keras, .teacher): bytes = PackageResources.keras_teacher_json
        case (.keras, .student): bytes = PackageResources.keras_student_json
        case (.hidden, .teacher): bytes = PackageResources.hidden_teacher_json
        case (.hidden, .student): bytes = PackageResources.hidden_student_json
        }
        // The presets are part of the build and parsed by the tests: a failure here is a bug.
        return try! ModelDescription(json: bytes, source: "preset \(rawValue)-\(role.rawValue)")
    }

    /// The model for `role`, its matrix products on `gemm`.
    public func model(_ role: ModelRole, gemm: GEMMBackend) throws -> Sequential {
        try description(role).build(gemm: gemm)
    }
}

/// What a saved model is for: checkpoints record it, and a teacher's place takes only a teacher.
public enum ModelRole: String, CaseIterable, Sendable { case teacher, student }
