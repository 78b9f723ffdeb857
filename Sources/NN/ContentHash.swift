/// FNV-1a over 32-bit words: a full, order-sensitive hash of tensors, datasets and settings, for
/// checking that ranks and files agree (not for security). Every word counts, so a changed pixel,
/// label, weight or row order changes the hash.
public struct ContentHash: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    @inline(__always)
    public mutating func mix(_ word: UInt64) {
        value ^= word
        value &*= 0x0000_0100_0000_01B3
    }

    public mutating func mix(_ values: UnsafeBufferPointer<Float>) {
        for x in values { mix(UInt64(x.bitPattern)) }
        mix(UInt64(values.count))
    }

    public mutating func mix(_ values: [Float]) { values.withUnsafeBufferPointer { mix($0) } }

    public mutating func mix(_ values: [Int32]) {
        for x in values { mix(UInt64(UInt32(bitPattern: x))) }
        mix(UInt64(values.count))
    }

    public mutating func mix(_ text: String) {
        for byte in text.utf8 { mix(UInt64(byte)) }
        mix(UInt64(text.utf8.count))
    }

    /// 16 hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The first non-finite value of `values` (NaN or infinity) and its index, if any.
public func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> (index: Int, value: Float)? {
    for (i, x) in values.enumerated() where !x.isFinite { return (i, x) }
    return nil
}
