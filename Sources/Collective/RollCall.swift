/// What the other ranks answered when a collective waited past the timeout, and the sentence
/// that names the ones holding the job up.
///
/// A rank that waits asks every other rank, over a side channel its watchdog thread serves,
/// how many collectives it has begun and whether it is inside one. A rank inside the same
/// collective has arrived; one that answers from elsewhere is running but late (in a different
/// collective, or computing); one that does not answer is stopped, swapped out or cut off.
public struct RollCall: Equatable, Sendable {
    /// One rank's answer: collectives begun, and whether it is waiting in one now.
    public struct Answer: Equatable, Sendable {
        public var collectivesBegun: Int
        public var isInCollective: Bool
        public init(collectivesBegun: Int, isInCollective: Bool) {
            (self.collectivesBegun, self.isInCollective) = (collectivesBegun, isInCollective)
        }
    }

    /// The asking rank's own count (it is inside collective number `collective`).
    public var rank: Int
    public var collective: Int
    /// Indexed by rank; nil where no answer came (the asking rank's own entry is ignored).
    public var answers: [Answer?]

    public init(rank: Int, collective: Int, answers: [Answer?]) {
        (self.rank, self.collective, self.answers) = (rank, collective, answers)
    }

    /// The ranks that did not answer at all.
    public var silent: [Int] { others.filter { answers[$0] == nil } }

    /// The ranks that answered but are not waiting in this same collective.
    public var late: [(rank: Int, answer: Answer)] {
        others.compactMap { rank in
            guard let answer = answers[rank], !arrived(answer) else { return nil }
            return (rank, answer)
        }
    }

    /// e.g. "rank 1 did not answer (stopped, swapped out or cut off); rank 3 is running but
    /// has not reached it (at collective 1203, computing)".
    public var summary: String {
        var parts: [String] = []
        if !silent.isEmpty {
            parts.append("\(Self.ranks(silent)) did not answer (stopped, swapped out or cut off)")
        }
        for (rank, answer) in late {
            let place = answer.isInCollective ? "waiting in collective \(answer.collectivesBegun)" : "computing after collective \(answer.collectivesBegun)"
            parts.append("rank \(rank) is running but has not reached it (\(place))")
        }
        if parts.isEmpty { return "every rank answered from this same collective" }
        return parts.joined(separator: "; ")
    }

    private var others: [Int] { answers.indices.filter { $0 != rank } }

    private func arrived(_ answer: Answer) -> Bool {
        answer.isInCollective && answer.collectivesBegun == collective
    }

    private static func ranks(_ list: [Int]) -> String {
        list.count == 1 ? "rank \(list[0])" : "ranks " + list.map(String.init).joined(separator: ", ")
    }
}
