/// Ranks that disagree on something that must be the same everywhere (data, settings, files).
public struct DisagreementError: Error, CustomStringConvertible {
    public let description: String
}

public extension Communicator {
    /// Checks that every rank holds the same hash for each named item (full hashes of data, of the
    /// settings that affect training, of model files, ...), with one allgatherv: each hash travels
    /// as four 16-bit pieces, which a Float holds exactly. Throws naming the first item that differs
    /// and the ranks whose value is not rank 0's, on every rank alike. A job of one rank agrees.
    func checkAgreement(_ items: [(name: String, hash: UInt64)]) throws {
        guard size > 1, !items.isEmpty else { return }
        let pieces = items.flatMap { item in (0..<4).map { Float((item.hash >> (16 * UInt64($0))) & 0xFFFF) } }
        let all = allgatherv(pieces, counts: Array(repeating: pieces.count, count: size))
        for (i, item) in items.enumerated() {
            func value(of rank: Int) -> UInt64 {
                (0..<4).reduce(0) { $0 | UInt64(all[rank * pieces.count + 4 * i + $1]) << (16 * UInt64($1)) }
            }
            let differing = (1..<size).filter { value(of: $0) != value(of: 0) }
            guard differing.isEmpty else {
                let ranks = differing.count == 1 ? "rank \(differing[0])" : "ranks \(differing.map(String.init).joined(separator: ", "))"
                throw DisagreementError(description: "the ranks disagree on \(item.name): \(ranks) differ\(differing.count == 1 ? "s" : "") "
                    + "from rank 0; give every rank the same flags and the same files")
            }
        }
    }
}
