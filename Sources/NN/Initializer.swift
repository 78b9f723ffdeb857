import Foundation

/// How a parameter tensor starts, as Keras's initializers of the same names.
public enum Initializer: Equatable, Sendable {
    /// Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fanIn + fanOut))` (the fans: `fanIn`, `fanOut`).
    case glorotUniform
    case zeros
    case ones
    /// A normal of standard deviation `sqrt(2 / fanIn) / 0.87962566103423978` with every draw beyond two of those
    /// drawn again (Keras's truncated normal), so that the values' own standard deviation is `sqrt(2 / fanIn)`.
    case heNormal
    /// Uniform in `[-limit, limit]`, `limit = sqrt(6 / fanIn)`.
    case heUniform
    /// Keras's `VarianceScaling(scale, mode, distribution)`: `s = scale / max(1, fan)` with the fan of `mode`;
    /// a truncated normal of deviation `sqrt(s) / 0.8796...` as `heNormal`, a normal of deviation `sqrt(s)`, or
    /// uniform in `+-sqrt(3 s)`. EfficientNet's kernels; Keras's LecunNormal, LecunUniform and GlorotNormal are such.
    case varianceScaling(scale: Double, mode: FanMode, distribution: Distribution)
    /// Keras's `Constant(value)`: every value the same.
    case constant(Float)

    /// The fan `VarianceScaling` divides by (Keras's `mode`).
    public enum FanMode: String, CaseIterable, Sendable { case fanIn = "fan_in", fanOut = "fan_out", fanAverage = "fan_avg" }
    /// The distribution `VarianceScaling` draws from (Keras's `distribution`; "normal" is Keras's truncated one).
    public enum Distribution: String, CaseIterable, Sendable {
        case truncatedNormal = "truncated_normal", untruncatedNormal = "untruncated_normal", uniform
    }

    /// Keras's class names of the initializers without options, and those that are `VarianceScaling` with fixed ones.
    private static let plain: [String: Initializer] = [
        "GlorotUniform": .glorotUniform, "Zeros": .zeros, "Ones": .ones, "HeNormal": .heNormal, "HeUniform": .heUniform,
        "LecunNormal": .varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal),
        "LecunUniform": .varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform),
        "GlorotNormal": .varianceScaling(scale: 1, mode: .fanAverage, distribution: .truncatedNormal),
    ]
    /// Every class name `named` reads, in the order an error lists them.
    static let classNames = ["GlorotUniform", "Zeros", "Ones", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
                             "GlorotNormal", "VarianceScaling", "Constant"]

    /// Fills `values[count]` of a tensor of `shape`, drawing from `rng` only for random initializers.
    func fill(_ values: UnsafeMutablePointer<Float>, shape: [Int], using rng: inout SeededGenerator) {
        let count = elementCount(shape)
        switch self {
        case .zeros: values.update(repeating: 0, count: count)
        case .ones: values.update(repeating: 1, count: count)
        case .constant(let value): values.update(repeating: value, count: count)
        case .glorotUniform:
            let limit = Float((6.0 / Double(fanIn(shape) + fanOut(shape))).squareRoot())
            for i in 0..<count { values[i] = rng.nextFloat(in: -limit, limit) }
        case .heUniform:
            let limit = Float((6.0 / Double(fanIn(shape))).squareRoot())
            for i in 0..<count { values[i] = rng.nextFloat(in: -limit, limit) }
        case .heNormal:
            Self.fillTruncatedNormal(values, count: count, deviation: (2.0 / Double(fanIn(shape))).squareRoot() / 0.87962566103423978, using: &rng)
        case .varianceScaling(let scale, let mode, let distribution):
            let fan = switch mode {
            case .fanIn: Double(fanIn(shape))
            case .fanOut: Double(fanOut(shape))
            case .fanAverage: Double(fanIn(shape) + fanOut(shape)) / 2
            }
            let s = scale / max(1, fan)
            switch distribution {
            case .truncatedNormal:
                Self.fillTruncatedNormal(values, count: count, deviation: s.squareRoot() / 0.87962566103423978, using: &rng)
            case .untruncatedNormal:
                for i in 0..<count { values[i] = Float(Self.standardNormal(&rng) * s.squareRoot()) }
            case .uniform:
                let limit = Float((3 * s).squareRoot())
                for i in 0..<count { values[i] = rng.nextFloat(in: -limit, limit) }
            }
        }
    }

    /// A normal of `deviation` with every draw beyond two deviations drawn again (Keras's truncated normal).
    private static func fillTruncatedNormal(_ values: UnsafeMutablePointer<Float>, count: Int, deviation: Double,
                                            using rng: inout SeededGenerator) {
        for i in 0..<count {
            var z: Double
            repeat { z = standardNormal(&rng) } while abs(z) > 2
            values[i] = Float(z * deviation)
        }
    }

    /// For a kernel `[..., in, out]`: `in` and `out` times the product of the leading (receptive-field) axes;
    /// both the length of a vector `[n]`, as Keras's `compute_fans`.
    private func fanIn(_ shape: [Int]) -> Int { shape.dropLast(2).reduce(1, *) * (shape.count >= 2 ? shape[shape.count - 2] : shape.first ?? 1) }
    private func fanOut(_ shape: [Int]) -> Int { shape.dropLast(2).reduce(1, *) * (shape.last ?? 1) }

    /// One draw of a standard normal (Box-Muller's cosine branch, from two uniform draws in (0, 1]).
    static func standardNormal(_ rng: inout SeededGenerator) -> Double {
        let u = (Double(rng.next() >> 11) + 1) / 9_007_199_254_740_992, v = Double(rng.next() >> 11) / 9_007_199_254_740_992
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// The initializer a Keras config names (`{"class_name": "GlorotUniform", ...}` or "glorot_uniform"),
    /// with `VarianceScaling`'s and `Constant`'s options read and checked; the default when the option is absent.
    static func named(in config: LayerConfig, _ key: String, default fallback: Initializer) throws -> Initializer {
        try config.requireInitializer(key, classNames)
        guard let value = config[key], value != .null else { return fallback }
        let name = (value.string ?? value["class_name"]?.string ?? "").replacingOccurrences(of: "_", with: "").lowercased()
        let className = classNames.first { $0.lowercased() == name }!
        if let plain = plain[className] { return plain }
        let options = value["config"]?.object ?? [:]
        let fail = { (message: String) in config.error("option \(key) is \(className) with \(message)") }
        let known: Set<String> = className == "Constant" ? ["value"] : ["scale", "mode", "distribution", "seed", "input_axes", "output_axes"]
        for (option, given) in options.sorted(by: { $0.key < $1.key }) {
            guard known.contains(option) else { throw fail("option \(option), which swift-distill does not know; known: \(known.sorted().joined(separator: ", "))") }
            if option.hasSuffix("_axes"), given != .null { throw fail("\(option) \(given.text); only null (the kernel's own fans) is supported") }
        }
        return className == "Constant" ? try constant(options, fail) : try varianceScaling(options, fail)
    }

    /// `Constant`'s `value` (Keras's default 0): one number.
    private static func constant(_ options: [String: JSONValue], _ fail: (String) -> ModelError) throws -> Initializer {
        let given = options["value"] ?? .number(0)
        guard case .number(let number) = given, abs(number) <= 1e9 else {
            throw fail("value \(given.text); expected one number (a number per element is not supported)")
        }
        return .constant(Float(number))
    }

    /// `VarianceScaling`'s `scale`, `mode` and `distribution`, with Keras's defaults (1, fan_in, truncated_normal).
    private static func varianceScaling(_ options: [String: JSONValue], _ fail: (String) -> ModelError) throws -> Initializer {
        var scale = 1.0
        if let given = options["scale"], given != .null {
            guard case .number(let number) = given, number > 0, number <= 1e9 else { throw fail("scale \(given.text); expected a number > 0") }
            scale = number
        }
        let mode = options["mode"] ?? .null, distribution = options["distribution"] ?? .null
        guard let fanMode = mode == .null ? .fanIn : mode.string.flatMap(FanMode.init(rawValue:)) else {
            throw fail("mode \(mode.text); supported: \(FanMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let lowered = distribution == .null ? "truncated_normal" : distribution.string?.lowercased() ?? ""
        guard let law = Distribution(rawValue: lowered == "normal" ? "truncated_normal" : lowered) else {   // as Keras reads "normal"
            throw fail("distribution \(distribution.text); supported: \(Distribution.allCases.map(\.rawValue).joined(separator: ", ")), normal")
        }
        return .varianceScaling(scale: scale, mode: fanMode, distribution: law)
    }
}
