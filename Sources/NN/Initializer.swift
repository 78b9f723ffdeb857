/// How a parameter tensor starts, as Keras's initializers of the same names.
public enum Initializer: String, Sendable {
    /// Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fanIn + fanOut))`; for a kernel `[..., in, out]`
    /// the fans are `in` and `out` times the product of the leading (receptive-field) axes.
    case glorotUniform = "GlorotUniform"
    case zeros = "Zeros"
    case ones = "Ones"

    /// Fills `values[count]` of a tensor of `shape`, drawing from `rng` only for random initializers.
    func fill(_ values: UnsafeMutablePointer<Float>, shape: [Int], using rng: inout SeededGenerator) {
        let count = elementCount(shape)
        switch self {
        case .zeros: values.update(repeating: 0, count: count)
        case .ones: values.update(repeating: 1, count: count)
        case .glorotUniform:
            let receptive = shape.dropLast(2).reduce(1, *)
            let fanIn = receptive * (shape.count >= 2 ? shape[shape.count - 2] : shape[0])
            let fanOut = receptive * (shape.last ?? 1)
            let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            for i in 0..<count { values[i] = rng.nextFloat(in: -limit, limit) }
        }
    }

    /// The initializer a Keras config names (`{"class_name": "GlorotUniform", ...}` or "glorot_uniform"),
    /// among those a layer accepts; the default when the option is absent.
    static func named(in config: LayerConfig, _ key: String, default fallback: Initializer) throws -> Initializer {
        try config.requireInitializer(key, [Self.glorotUniform, .zeros, .ones].map(\.rawValue))
        guard let value = config[key], value != .null else { return fallback }
        let name = (value.string ?? value["class_name"]?.string ?? "").replacingOccurrences(of: "_", with: "").lowercased()
        return [Self.glorotUniform, .zeros, .ones].first { $0.rawValue.lowercased() == name }!
    }
}
