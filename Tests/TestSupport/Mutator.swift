import Foundation
import NN

/// NN's seeded SplitMix64 with a few draws fuzzing needs, so a fuzz run with a fixed seed is reproducible.
public struct FuzzRandom: RandomNumberGenerator {
    private var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    /// A draw from `0..<bound` (`bound > 0`); the modulo bias is irrelevant for fuzzing.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "FuzzRandom.below(\(bound))")
        return Int(next() % UInt64(bound))
    }

    /// A draw from `range`, which must not be empty.
    public mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < p
    }

    /// One element of `items`, which must not be empty.
    public mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

/// The byte-level changes `Mutator` makes to a valid file.
public enum Mutation: String, CaseIterable {
    case flipBit, setByte, boundaryWord, truncate, appendJunk, deleteSpan, duplicateSpan, splice
}

/// A seeded mutation engine: turns a valid file into a slightly broken one.
///
/// `focus` ranges (e.g. a header) receive half of the position-based changes, so the mutations
/// do not all land in bulk data that a parser passes through unchecked.
public struct Mutator {
    public var rng: FuzzRandom

    public init(seed: UInt64) { rng = FuzzRandom(seed: seed) }

    /// `bytes` after one to `maxSteps` random mutations; `donors` are other valid files to splice from.
    public mutating func mutate(_ bytes: [UInt8], donors: [[UInt8]] = [], focus: [Range<Int>] = [],
                                maxSteps: Int = 3) -> [UInt8] {
        var out = bytes
        for _ in 0..<rng.inRange(1...max(1, maxSteps)) {
            apply(rng.pick(Mutation.allCases), to: &out, donors: donors, focus: focus)
        }
        return out
    }

    /// Applies one `mutation` to `bytes`. An empty input only grows (there is nothing to change).
    public mutating func apply(_ mutation: Mutation, to bytes: inout [UInt8], donors: [[UInt8]] = [],
                               focus: [Range<Int>] = []) {
        guard !bytes.isEmpty else {
            bytes += rng.bytes(rng.inRange(1...16))
            return
        }
        switch mutation {
        case .flipBit:
            let at = position(in: bytes.count, focus: focus)
            bytes[at] ^= 1 << UInt8(rng.below(8))
        case .setByte:
            let at = position(in: bytes.count, focus: focus)
            bytes[at] = rng.pick([0x00, 0xFF, UInt8(truncatingIfNeeded: rng.next())])
        case .boundaryWord:
            let width = rng.pick([1, 2, 4, 8])
            guard bytes.count >= width else {
                bytes[0] ^= 0xFF
                return
            }
            let at = min(position(in: bytes.count, focus: focus), bytes.count - width)
            let value = boundaryValue(width: width, length: bytes.count)
            let bigEndian = rng.chance(0.5)
            for i in 0..<width {
                let shift = 8 * (bigEndian ? width - 1 - i : i)
                bytes[at + i] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
            }
        case .truncate:
            bytes.removeLast(bytes.count - rng.below(bytes.count))  // keeps 0..<count bytes
        case .appendJunk:
            let junk = rng.chance(0.5) ? rng.bytes(rng.inRange(1...64))
                : [UInt8](repeating: rng.pick([0x00, 0xFF, 0x20]), count: rng.inRange(1...64))
            bytes += junk
        case .deleteSpan:
            let span = randomSpan(in: bytes.count, focus: focus)
            bytes.removeSubrange(span)
        case .duplicateSpan:
            let span = randomSpan(in: bytes.count, focus: focus)
            bytes.insert(contentsOf: Array(bytes[span]), at: rng.chance(0.5) ? span.upperBound : rng.below(bytes.count + 1))
        case .splice:
            let usable = donors.filter { !$0.isEmpty }
            guard !usable.isEmpty else {
                apply(.duplicateSpan, to: &bytes, focus: focus)
                return
            }
            let donor = rng.pick(usable)
            // Same offset in both files half the time (a region of one valid file over the other's).
            let source = randomSpan(in: donor.count, focus: focus)
            let at = rng.chance(0.5) ? min(source.lowerBound, bytes.count) : rng.below(bytes.count + 1)
            let end = min(at + source.count, bytes.count)
            bytes.replaceSubrange(at..<end, with: donor[source])
        }
    }

    /// A value that sits on a boundary for a `width`-byte word: 0, 1, small, the sign bit and its
    /// neighbours, all ones, or near the file length. Truncated to the width when written.
    public mutating func boundaryValue(width: Int, length: Int) -> UInt64 {
        let bits = UInt64(8 * width)
        let top: UInt64 = bits == 64 ? 1 << 63 : 1 << (bits - 1)  // 0x80..
        let ones: UInt64 = bits == 64 ? .max : (1 << bits) - 1     // 0xFF..
        let candidates: [UInt64] = [
            0, 1, 2, UInt64(rng.inRange(3...16)), 0x7F, 0x80, 0xFF, 0x100,
            top - 1, top, top + 1, ones, ones - 1,
            UInt64(length), UInt64(length) &+ UInt64(rng.inRange(1...8)), UInt64(max(0, length - rng.inRange(1...8))),
        ]
        return rng.pick(candidates) & ones
    }

    /// A byte position: in a focus range half the time (when one fits), else anywhere.
    private mutating func position(in count: Int, focus: [Range<Int>]) -> Int {
        let usable = focus.map { $0.clamped(to: 0..<count) }.filter { !$0.isEmpty }
        if !usable.isEmpty && rng.chance(0.5) {
            let range = rng.pick(usable)
            return range.lowerBound + rng.below(range.count)
        }
        return rng.below(count)
    }

    /// A non-empty span of at most 64 bytes (sometimes up to a quarter of the file) inside `0..<count`.
    private mutating func randomSpan(in count: Int, focus: [Range<Int>]) -> Range<Int> {
        let start = position(in: count, focus: focus)
        let longest = rng.chance(0.9) ? 64 : max(64, count / 4)
        let length = rng.inRange(1...max(1, min(longest, count - start)))
        return start ..< start + length
    }
}

/// How many fuzz inputs ended at each named stage of a parser ("magic", "data", "loaded", ...).
public struct FuzzStages {
    public private(set) var counts: [String: Int] = [:]

    public init() {}

    public mutating func record(_ stage: String) { counts[stage, default: 0] += 1 }

    public var total: Int { counts.values.reduce(0, +) }

    /// Inputs that ended at any of `stages`.
    public func count(_ stages: [String]) -> Int { stages.reduce(0) { $0 + counts[$1, default: 0] } }

    /// The share (0...1) of inputs that ended at any of `stages`.
    public func fraction(_ stages: [String]) -> Double { total == 0 ? 0 : Double(count(stages)) / Double(total) }

    /// The first stage of `rules` (in order) with a word found in `message`, else `otherwise`.
    public static func stage(of message: String, _ rules: [(stage: String, words: [String])], otherwise: String = "other") -> String {
        rules.first { rule in rule.words.contains { message.contains($0) } }?.stage ?? otherwise
    }

    /// One line per stage, most frequent first, with counts and shares.
    public func report(_ title: String) -> String {
        var lines = ["\(title): \(total) inputs"]
        for (stage, count) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            let share = String(format: "%.1f", 100 * Double(count) / Double(max(total, 1)))
            lines.append("  \(stage): \(count) (\(share)%)")
        }
        return lines.joined(separator: "\n")
    }
}
