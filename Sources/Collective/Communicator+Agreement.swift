/// Ranks that disagree on something that must be the same everywhere (data, settings, files).
public struct DisagreementError: Error, CustomStringConvertible {
    public let description: String
}

public extension Communicator {
    /// Checks that every rank holds the same items, each a name and a hash (full hashes of data, of
    /// the settings that affect training, of model files, ...). Two collectives, whatever the items:
    /// an allgather of each rank's encoded length, then an allgatherv of the names and hashes, so
    /// ranks that check different things (another command, other flags) cannot hang or truncate a
    /// message; they are told what differs. Throws on every rank alike, naming the first item (in
    /// rank 0's order) that differs and the ranks whose item is not rank 0's. A job of one rank agrees.
    func checkAgreement(_ items: [(name: String, hash: UInt64)]) throws {
        guard size > 1 else { return }
        let mine = AgreementList.encode(items)
        let lengths = allgatherv([Float(mine.count)], counts: Array(repeating: 1, count: size)).map { Int($0) }
        let all = allgatherv(mine, counts: lengths)
        var lists: [[AgreementList.Item]] = []
        var start = 0
        for length in lengths {
            lists.append(AgreementList.decode(all[start..<start + length]))
            start += length
        }
        if let problem = AgreementList.firstDifference(lists) { throw DisagreementError(description: problem) }
    }
}

/// The items of one rank's agreement as Floats, each exact: per item the name's UTF-8 length and
/// bytes, then the hash as four 16-bit pieces (a Float holds integers below 2^24 exactly).
enum AgreementList {
    struct Item: Equatable {
        let name: String
        let hash: UInt64
    }

    static func encode(_ items: [(name: String, hash: UInt64)]) -> [Float] {
        var out: [Float] = []
        for item in items {
            let bytes = Array(item.name.utf8)
            out.append(Float(bytes.count))
            out += bytes.map(Float.init)
            out += (0..<4).map { Float((item.hash >> (16 * UInt64($0))) & 0xFFFF) }
        }
        return out
    }

    static func decode(_ values: ArraySlice<Float>) -> [Item] {
        var items: [Item] = []
        var at = values.startIndex
        while at < values.endIndex {
            let length = Int(values[at])
            let bytes = values[(at + 1)..<(at + 1 + length)].map { UInt8($0) }
            let pieces = values[(at + 1 + length)..<(at + 5 + length)]
            let hash = pieces.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (16 * UInt64($1.offset)) }
            items.append(Item(name: String(decoding: bytes, as: UTF8.self), hash: hash))
            at += 5 + length
        }
        return items
    }

    /// One line on the first item where a rank's list is not rank 0's, or nil when all agree.
    /// Items are matched by name: the same name with another hash "differs"; a name only one side has
    /// is shown with what the other side has in its place.
    static func firstDifference(_ lists: [[Item]]) -> String? {
        let reference = lists[0]
        var problems: [(order: Int, text: String, rank: Int)] = []
        for rank in 1..<lists.count {
            let theirs = lists[rank]
            let onlyOurs = reference.filter { item in !theirs.contains { $0.name == item.name } }
            let onlyTheirs = theirs.filter { item in !reference.contains { $0.name == item.name } }
            for (order, item) in reference.enumerated() {
                if let other = theirs.first(where: { $0.name == item.name }), other.hash != item.hash {
                    problems.append((order, "on \(item.name)", rank))
                    break
                }
                if onlyOurs.first == item {
                    let instead = onlyTheirs.first.map { "rank \(rank) has \($0.name)" } ?? "rank \(rank) does not"
                    problems.append((order, ": rank 0 has \(item.name), \(instead)", rank))
                    break
                }
            }
            if !problems.contains(where: { $0.rank == rank }), let extra = onlyTheirs.first {
                problems.append((reference.count, ": rank \(rank) has \(extra.name), rank 0 does not", rank))
            }
        }
        guard let first = problems.min(by: { ($0.order, $0.rank) < ($1.order, $1.rank) }) else { return nil }
        let advice = "; give every rank the same command line and the same files"
        guard first.text.hasPrefix("on ") else { return "the ranks disagree\(first.text)\(advice)" }
        let ranks = problems.filter { $0.text == first.text }.map(\.rank)
        let named = ranks.count == 1 ? "rank \(ranks[0]) differs" : "ranks \(ranks.map(String.init).joined(separator: ", ")) differ"
        return "the ranks disagree \(first.text): \(named) from rank 0\(advice)"
    }
}
