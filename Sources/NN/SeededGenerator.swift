/// A small, fast, deterministic generator (SplitMix64): the same seed gives the same
/// weights and the same epoch orders on every machine and every rank.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The whole state: `SeededGenerator(seed: g.state)` continues exactly where `g` is.
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.finalise(state)
    }

    /// A well-mixed 64-bit hash of `value`: SplitMix64's output for the state `value` (what a
    /// generator seeded with `value` returns first), for keys drawn without a generator (Dropout's masks).
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 { finalise(value &+ increment) }

    private static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    @inline(__always)
    private static func finalise(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[low, high)` from the top 24 bits, so every value is exactly a float.
    public mutating func nextFloat(in low: Float, _ high: Float) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }
}
