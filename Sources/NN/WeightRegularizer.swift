/// Keras 3's weight regularisers (`kernel_regularizer`, `bias_regularizer`): a penalty on a weight
/// added to the loss of every training batch (and of evaluation), as Keras adds `model.losses`:
///
///     L1(l1 = 0.01):            l1 * sum(|w|)                   gradient l1 * sign(w)
///     L2(l2 = 0.01):            l2 * sum(w^2)                   gradient 2 * l2 * w
///     L1L2(l1 = 0, l2 = 0):     both
///
/// L2 is PyTorch's coupled weight decay: `weight_decay = 2 * l2` of SGD.
public struct WeightRegularizer: Equatable, Sendable {
    public let l1: Float, l2: Float

    /// The regulariser an option names, nil when it is absent or null.
    static func read(_ key: String, in config: LayerConfig) throws -> WeightRegularizer? {
        guard let value = config[key], value != .null else { return nil }
        let options = value["config"]
        func factor(_ name: String, default fallback: Double) throws -> Float {
            let given = options?[name] ?? .number(fallback)
            guard case .number(let number) = given, number >= 0, number <= 1e3 else {
                throw config.error("option \(key) has \(name) \(given.text); expected a number in 0...1000")
            }
            return Float(number)
        }
        switch (value.string ?? value["class_name"]?.string ?? "").replacingOccurrences(of: "_", with: "").lowercased() {
        case "l1": return WeightRegularizer(l1: try factor("l1", default: 0.01), l2: 0)
        case "l2": return WeightRegularizer(l1: 0, l2: try factor("l2", default: 0.01))
        case "l1l2": return WeightRegularizer(l1: try factor("l1", default: 0), l2: try factor("l2", default: 0))
        default: throw config.error("option \(key) is \(value["class_name"]?.text ?? value.text); supported: L1, L2, L1L2")
        }
    }

    /// A layer's `kernel_regularizer` and `bias_regularizer`, by the parameter they bind.
    static func regularizers(_ config: LayerConfig) throws -> [String: WeightRegularizer] {
        var found: [String: WeightRegularizer] = [:]
        for (key, parameter) in [("kernel_regularizer", "kernel"), ("bias_regularizer", "bias")] {
            if let regularizer = try read(key, in: config) { found[parameter] = regularizer }
        }
        return found
    }

    /// The penalty of `count` values, summed in Double.
    func penalty(_ w: UnsafePointer<Float>, count: Int) -> Double {
        var (absolute, squares) = (0.0, 0.0)
        for i in 0..<count {
            absolute += Double(abs(w[i]))
            squares += Double(w[i]) * Double(w[i])
        }
        return Double(l1) * absolute + Double(l2) * squares
    }

    /// Adds the penalty's gradient into `gradient`.
    func addGradient(_ w: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>, count: Int) {
        let twice = 2 * l2
        for i in 0..<count {
            let sign: Float = w[i] > 0 ? 1 : (w[i] < 0 ? -1 : 0)
            gradient[i] += l1 * sign + twice * w[i]
        }
    }
}
