import Synchronization

/// One layer of a Keras model description: its class name, name and `config`, with typed
/// readers whose errors name the layer, the option and what is supported.
///
/// Every read is recorded: after a layer is built, an option that no reader consulted (a misspelt
/// `padd1ng`, an option with no implementation) is an error, not a default silently kept.
public struct LayerConfig: Sendable {
    public let className: String
    public let name: String
    private let options: [String: JSONValue]
    private let consulted = ConsultedKeys()

    public init(className: String, name: String, options: [String: JSONValue]) {
        (self.className, self.name, self.options) = (className, name, options)
    }

    /// The option `key` as written (nil when absent), recorded as known.
    public subscript(key: String) -> JSONValue? {
        consulted.insert(key)
        return options[key]
    }

    /// `trainable: false`: the layer's weights are frozen (never updated), as in Keras.
    public var isFrozen: Bool { self["trainable"] == .bool(false) }

    /// Marks options Keras writes that change nothing here (the reason belongs beside the call).
    public func ignore(_ keys: String...) {
        for key in keys { consulted.insert(key) }
    }

    /// Refuses the layer if its config holds an option that nothing has read: call after building it.
    public func checkEveryOptionKnown() throws {
        let unknown = options.keys.filter { $0 != "name" && !consulted.contains($0) }.sorted()
        guard let key = unknown.first else { return }
        let known = options.keys.filter { $0 == "name" || consulted.contains($0) }.sorted()
        throw error("option \(key) is not an option of \(className) that swift-distill knows (misspelt, or not implemented); "
            + "the options it read: \(known.joined(separator: ", "))")
    }

    /// A one-line error about this layer, e.g. "layer 'conv2d_1' (Conv2D): dilation_rate [2, 2] is not supported".
    public func error(_ message: String) -> ModelError {
        ModelError("layer '\(name)' (\(className)): \(message)")
    }

    public func int(_ key: String, default fallback: Int? = nil, range: ClosedRange<Int> = 1...(1 << 24)) throws -> Int {
        guard let value = self[key], value != .null else {
            if let fallback { return fallback }
            throw error("option \(key) is missing")
        }
        guard let number = value.int, range.contains(number) else {
            throw error("option \(key) is \(value.text); expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A number in `range` (each layer documents its ranges), so finite as a Float32 too.
    public func float(_ key: String, default fallback: Float, range: ClosedRange<Double>) throws -> Float {
        guard let value = self[key], value != .null else { return fallback }
        guard case .number(let number) = value, range.contains(number) else {
            throw error("option \(key) is \(value.text); expected a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return Float(number)
    }

    /// A required number in `range`: missing or null is an error.
    public func float(_ key: String, range: ClosedRange<Double>) throws -> Float {
        guard let value = self[key], value != .null else { throw error("option \(key) is missing; expected a number") }
        return try float(key, default: 0, range: range)
    }

    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = self[key], value != .null else { return fallback }
        guard case .bool(let flag) = value else { throw error("option \(key) is \(value.text); expected true or false") }
        return flag
    }

    /// A string option that must be one of `allowed`.
    public func choice(_ key: String, default fallback: String, allowed: [String]) throws -> String {
        guard let value = self[key], value != .null else { return fallback }
        guard let text = value.string, allowed.contains(text.lowercased()) else {
            throw error("option \(key) is \(value.text); supported: \(allowed.joined(separator: ", "))")
        }
        return text.lowercased()
    }

    /// A window size or stride: one integer or a pair, as Keras accepts.
    public func pair(_ key: String, default fallback: (Int, Int)? = nil) throws -> (Int, Int) {
        guard let value = self[key], value != .null else {
            if let fallback { return fallback }
            throw error("option \(key) is missing")
        }
        if let number = value.int, number > 0, number <= 1 << 16 { return (number, number) }
        guard let items = value.array, items.count == 2, let first = items[0].int, let second = items[1].int,
              first > 0, second > 0, first <= 1 << 16, second <= 1 << 16 else {
            throw error("option \(key) is \(value.text); expected a positive integer or a pair of them")
        }
        return (first, second)
    }

    /// Keras's `axis` of a layer that works on the last axis only: -1, or its number counting the batch as 0 (3 for
    /// images), alone or in a one-element list; nil when absent or null. The layer checks it against its input when built.
    public func lastAxis(_ key: String = "axis") throws -> Int? {
        guard let value = self[key], value != .null else { return nil }
        let single = value.array?.count == 1 ? value.array![0] : value
        guard let number = single.int, number == -1 || (1...3).contains(number) else {
            throw error("option \(key) is \(value.text); only the last (channel) axis is supported: -1, or 3 for images")
        }
        return number
    }

    /// Checks, when the layer is built, that `axis` (as `lastAxis` read it) is its input's last: -1, or the input's rank.
    public static func checkLastAxis(_ axis: Int, inputShape: [Int]) throws {
        guard axis == -1 || axis == inputShape.count else {
            throw ModelError("option axis is \(axis), but the last axis of an input of shape \(inputShape) is \(inputShape.count) "
                + "(counting the batch as 0) or -1; only the last axis is supported")
        }
    }

    /// Refuses the layer unless `key` is absent, null, or one of `accepted` (features with no implementation here).
    public func requireDefault(_ key: String, _ accepted: JSONValue...) throws {
        guard let value = self[key], value != .null, !accepted.contains(value) else { return }
        let supported = accepted.isEmpty ? "only null" : accepted.map(\.text).joined(separator: " or ")
        throw error("option \(key) is \(value.text), which swift-distill does not implement; supported: \(supported)")
    }

    /// Refuses an initializer other than those the layer implements (by Keras class name).
    public func requireInitializer(_ key: String, _ accepted: [String]) throws {
        guard let value = self[key], value != .null else { return }
        let className = value.string ?? value["class_name"]?.string
        guard let className, accepted.contains(where: { $0.caseInsensitiveCompare(className) == .orderedSame
                                                         || Self.snakeCase($0) == className }) else {
            throw error("option \(key) is \(value["class_name"]?.text ?? value.text); supported: \(accepted.joined(separator: ", "))")
        }
    }

    /// Options every layer may carry that change nothing here, and those refused when not at their default.
    public func checkCommonOptions() throws {
        if let trainable = self["trainable"], trainable != .null, trainable.bool == nil {
            throw error("option trainable is \(trainable.text); expected true or false")
        }
        try requireDefault("data_format", .string("channels_last"))
        // kernel_ and bias_ constraints and regularisers: read by Dense and Conv2D, refused by the other layers that have them.
        for key in ["activity_regularizer", "beta_regularizer", "gamma_regularizer",
                    "beta_constraint", "gamma_constraint", "lora_rank", "quantization_config"] {
            try requireDefault(key)
        }
        if let dtype = self["dtype"], dtype != .null {
            let name = dtype.string ?? dtype["config"]?["name"]?.string
            guard name == "float32" else { throw error("option dtype is \(dtype.text); only float32 is supported") }
        }
    }

    /// "GlorotUniform" -> "glorot_uniform", the spelling Keras also accepts.
    private static func snakeCase(_ name: String) -> String {
        var result = ""
        for (index, character) in name.enumerated() {
            if character.isUppercase, index > 0 { result.append("_") }
            result.append(character.lowercased())
        }
        return result
    }
}

/// The option keys a layer's readers have consulted, shared by the copies of one `LayerConfig`.
private final class ConsultedKeys: Sendable {
    private let keys = Mutex<Set<String>>([])
    func insert(_ key: String) { keys.withLock { _ = $0.insert(key) } }
    func contains(_ key: String) -> Bool { keys.withLock { $0.contains(key) } }
}
