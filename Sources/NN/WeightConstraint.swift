/// Keras 3's weight constraints (`kernel_constraint`, `bias_constraint`), applied to a weight after
/// each optimizer update, as Keras's optimizer applies them to the variables it updates:
///
///     MaxNorm(max_value = 2, axis = 0):  w * clip(n, 0, max_value) / (epsilon + n)
///     UnitNorm(axis = 0):                w / (epsilon + n)
///     NonNeg:                            maximum(w, 0)
///
/// `n` is the square root of the sum of `w^2` over `axis` (an axis or a list, negative counting from
/// the end), one norm per index of the other axes; `epsilon` is Keras's 1e-7. For a Dense kernel
/// `[in, out]`, axis 0 bounds each unit's incoming weights; for a Conv2D kernel `[kh, kw, in, out]`,
/// Keras's documentation uses `[0, 1, 2]`: one norm per filter.
public enum WeightConstraint: Equatable, Sendable {
    case maxNorm(Float, axes: [Int])
    case unitNorm(axes: [Int])
    case nonNeg

    static let epsilon: Float = 1e-7

    /// A layer's `kernel_constraint` and `bias_constraint`, by the parameter they bind.
    static func constraints(_ config: LayerConfig) throws -> [String: WeightConstraint] {
        var found: [String: WeightConstraint] = [:]
        for (key, parameter) in [("kernel_constraint", "kernel"), ("bias_constraint", "bias")] {
            if let constraint = try read(key, in: config) { found[parameter] = constraint }
        }
        return found
    }

    /// The constraint an option names, nil when it is absent or null.
    static func read(_ key: String, in config: LayerConfig) throws -> WeightConstraint? {
        guard let value = config[key], value != .null else { return nil }
        let given = value.string ?? value["class_name"]?.string ?? ""
        let options = value["config"]
        func axes() throws -> [Int] {
            guard let axis = options?["axis"], axis != .null else { return [0] }
            let list = axis.array ?? [axis]
            let numbers = list.compactMap(\.int)
            guard !list.isEmpty, numbers.count == list.count, numbers.allSatisfy({ (-8...8).contains($0) }) else {
                throw config.error("option \(key) has axis \(axis.text); expected an axis or a list of axes")
            }
            return numbers
        }
        switch given.replacingOccurrences(of: "_", with: "").lowercased() {
        case "maxnorm":
            let limit = options?["max_value"] ?? .number(2)
            guard case .number(let maximum) = limit, maximum >= 0, maximum <= 1e6 else {
                throw config.error("option \(key) has max_value \(limit.text); expected a number in 0...1e6")
            }
            return .maxNorm(Float(maximum), axes: try axes())
        case "unitnorm": return .unitNorm(axes: try axes())
        case "nonneg": return .nonNeg
        default: throw config.error("option \(key) is \(value["class_name"]?.text ?? value.text); supported: MaxNorm, UnitNorm, NonNeg")
        }
    }

    /// The reduced axes for a weight of `shape`, or nil when one is outside it.
    func reducedAxes(rank: Int) -> Set<Int>? {
        let given: [Int]
        switch self {
        case .maxNorm(_, let axes), .unitNorm(let axes): given = axes
        case .nonNeg: return []
        }
        let resolved = given.map { $0 < 0 ? $0 + rank : $0 }
        return resolved.allSatisfy({ (0..<rank).contains($0) }) ? Set(resolved) : nil
    }
}

/// One constrained weight: where it lives and, per value, which norm it belongs to (sized once, so
/// applying it allocates nothing).
final class ConstrainedWeight {
    let constraint: WeightConstraint
    let offset: Int, count: Int
    private let group: [Int32]          // per value: the index of its norm (the other axes' flat index)
    private let norms: FloatBuffer      // [groups]
    private let sums: UnsafeMutableBufferPointer<Double>   // [groups]

    init(_ constraint: WeightConstraint, offset: Int, shape: [Int], name: String) throws {
        guard let reduced = constraint.reducedAxes(rank: shape.count) else {
            throw ModelError("\(name): the constraint's axis lies outside the weight's shape \(shape)")
        }
        (self.constraint, self.offset, count) = (constraint, offset, shape.reduce(1, *))
        // Row-major walk: the flat index over the kept axes alone.
        var group = [Int32](repeating: 0, count: count)
        let kept = shape.indices.filter { !reduced.contains($0) }
        var strides = [Int](repeating: 0, count: shape.count), stride = 1
        for axis in kept.reversed() { (strides[axis], stride) = (stride, stride * shape[axis]) }
        for flat in 0..<count {
            var (rest, index) = (flat, 0)
            for axis in shape.indices.reversed() {
                index += (rest % shape[axis]) * strides[axis]
                rest /= shape[axis]
            }
            group[flat] = Int32(index)
        }
        (self.group, norms, sums) = (group, FloatBuffer(count: stride), .allocate(capacity: stride))
    }

    deinit { sums.deallocate() }

    func apply(_ values: UnsafeMutablePointer<Float>) {
        let w = values + offset
        switch constraint {
        case .nonNeg:
            for i in 0..<count where w[i] < 0 { w[i] = 0 }   // Keras 3's maximum(w, 0): NaN and -0 stay
        case .maxNorm(let maximum, _):
            sumSquares(w)
            for g in 0..<norms.count { norms.pointer[g] = Swift.min(norms.pointer[g], maximum) / (WeightConstraint.epsilon + norms.pointer[g]) }
            for i in 0..<count { w[i] *= norms.pointer[Int(group[i])] }
        case .unitNorm:
            sumSquares(w)
            for i in 0..<count { w[i] /= WeightConstraint.epsilon + norms.pointer[Int(group[i])] }
        }
    }

    /// norms[g] = sqrt(sum of w^2 over the values of group g), summed in Double.
    private func sumSquares(_ w: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0)
        for i in 0..<count { sums[Int(group[i])] += Double(w[i]) * Double(w[i]) }
        for g in 0..<norms.count { norms.pointer[g] = Float(sums[g].squareRoot()) }
    }
}
