import Foundation

/// How a parameter tensor starts, as Keras's initializers of the same names.
public enum Initializer: String, Sendable {
    /// Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fanIn + fanOut))` (the fans: `fanIn`, `fanOut`).
    case glorotUniform = "GlorotUniform"
    case zeros = "Zeros"
    case ones = "Ones"
    /// A normal of standard deviation `sqrt(2 / fanIn) / 0.87962566103423978` with every draw beyond two of those
    /// drawn again (Keras's truncated normal), so that the values' own standard deviation is `sqrt(2 / fanIn)`.
    case heNormal = "HeNormal"
    /// Uniform in `[-limit, limit]`, `limit = sqrt(6 / fanIn)`.
    case heUniform = "HeUniform"

    static let all: [Initializer] = [.glorotUniform, .zeros, .ones, .heNormal, .heUniform]

    /// Fills `values[count]` of a tensor of `shape`, drawing from `rng` only for random initializers.
    func fill(_ values: UnsafeMutablePointer<Float>, shape: [Int], using rng: inout SeededGenerator) {
        let count = elementCount(shape)
        switch self {
        case .zeros: values.update(repeating: 0, count: count)
        case .ones: values.update(repeating: 1, count: count)
        case .glorotUniform:
            let limit = Float((6.0 / Double(fanIn(shape) + fanOut(shape))).squareRoot())
            for i in 0..<count { values[i] = rng.nextFloat(in: -limit, limit) }
        case .heUniform:
            let limit = Float((6.0 / Double(fanIn(shape))).squareRoot())
            for i in 0..<count { values[i] = rng.nextFloat(in: -limit, limit) }
        case .heNormal:
            let deviation = (2.0 / Double(fanIn(shape))).squareRoot() / 0.87962566103423978
            for i in 0..<count {
                var z: Double
                repeat { z = Self.standardNormal(&rng) } while abs(z) > 2
                values[i] = Float(z * deviation)
            }
        }
    }

    /// For a kernel `[..., in, out]`: `in` and `out` times the product of the leading (receptive-field) axes.
    private func fanIn(_ shape: [Int]) -> Int { shape.dropLast(2).reduce(1, *) * (shape.count >= 2 ? shape[shape.count - 2] : shape[0]) }
    private func fanOut(_ shape: [Int]) -> Int { shape.dropLast(2).reduce(1, *) * (shape.last ?? 1) }

    /// One draw of a standard normal (Box-Muller's cosine branch, from two uniform draws in (0, 1]).
    static func standardNormal(_ rng: inout SeededGenerator) -> Double {
        let u = (Double(rng.next() >> 11) + 1) / 9_007_199_254_740_992, v = Double(rng.next() >> 11) / 9_007_199_254_740_992
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// The initializer a Keras config names (`{"class_name": "GlorotUniform", ...}` or "glorot_uniform"),
    /// among those a layer accepts; the default when the option is absent.
    static func named(in config: LayerConfig, _ key: String, default fallback: Initializer) throws -> Initializer {
        try config.requireInitializer(key, all.map(\.rawValue))
        guard let value = config[key], value != .null else { return fallback }
        let name = (value.string ?? value["class_name"]?.string ?? "").replacingOccurrences(of: "_", with: "").lowercased()
        return all.first { $0.rawValue.lowercased() == name }!
    }
}
