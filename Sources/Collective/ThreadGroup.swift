import Foundation
import Synchronization

/// The ranks of a job that are threads of this one process (`--ranks N` without MPI), and the place
/// where their collectives meet.
///
/// A collective is one meeting (a barrier) or two: each rank posts its buffer's address and count,
/// arrives, waits until every rank has arrived, works on the posted buffers, and meets again. A rank's
/// arrival is a counter of its own that only grows (release on store, acquire on load), so what a
/// rank wrote before arriving is seen by every rank after the meeting. Waiting spins, then yields,
/// then sleeps, so ranks beyond the cores do not starve the ones that work; past `collectiveTimeout`
/// it ends the job naming the call and the ranks that did not arrive.
public final class ThreadGroup: @unchecked Sendable {
    public let size: Int
    let collectiveTimeout: Double?
    private let arrivals: [Arrival]                            // [size]
    let addresses: UnsafeMutablePointer<UnsafeMutableRawPointer?>   // [size]: each rank's buffer in the current collective
    let counts: UnsafeMutablePointer<Int>                      // [size]: that buffer's element count

    /// `collectiveTimeout` in seconds; nil waits forever.
    public init(size: Int, collectiveTimeout: Double?) {
        precondition(size >= 1, "a group has at least one rank")
        (self.size, self.collectiveTimeout) = (size, collectiveTimeout)
        arrivals = (0..<size).map { _ in Arrival() }
        addresses = .allocate(capacity: size)
        addresses.initialize(repeating: nil, count: size)
        counts = .allocate(capacity: size)
        counts.initialize(repeating: 0, count: size)
    }

    deinit {
        addresses.deallocate()
        counts.deallocate()
    }

    /// The communicator of rank `rank`; each rank's must be used by one thread only.
    public func communicator(rank: Int) -> ThreadRank { ThreadRank(rank: rank, group: self) }

    /// Runs `body` once per rank, each on a thread of its own with that rank's communicator
    /// (stacks of `stackBytes`, as a main thread has), and returns the results in rank order once all have returned.
    public static func run<Result>(size: Int, collectiveTimeout: Double?, stackBytes: Int = 64 << 20,
                                   _ body: (ThreadRank) -> Result) -> [Result] {
        let group = ThreadGroup(size: size, collectiveTimeout: collectiveTimeout)
        let results = Mutex<[Int: Result]>([:])
        let finished = DispatchGroup()
        withoutActuallyEscaping(body) { body in
            // The threads reach `body` through a box emptied once they are joined: a Thread keeps its block
            // until it is released, which may be after this call returns.
            let box = BodyBox(body)
            for rank in 0..<size {
                finished.enter()
                let thread = Thread {
                    let result = box.body!(group.communicator(rank: rank))
                    results.withLock { $0[rank] = result }
                    finished.leave()
                }
                thread.stackSize = stackBytes
                thread.name = "rank \(rank)"
                thread.start()
            }
            finished.wait()
            box.body = nil
        }
        return results.withLock { all in (0..<size).map { all[$0]! } }
    }

    /// Marks rank `rank` as arrived at its meeting number `generation` and returns once every rank has.
    func meet(rank: Int, generation: Int, call: String) {
        arrivals[rank].count.store(generation, ordering: .releasing)
        var polls = 0
        var started: UInt64 = 0
        while let late = firstLate(generation) {
            polls += 1
            if polls < 20_000 { continue }                        // spin: most waits end here
            if polls < 21_000 { sched_yield(); continue }          // another rank may need this core
            if started == 0 { started = DispatchTime.now().uptimeNanoseconds }
            let waited = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            usleep(waited < 0.01 ? 50 : 1000)                      // a long wait (a sweep's round) costs no core
            if let collectiveTimeout, waited > collectiveTimeout {
                let missing = (late..<size).filter { arrivals[$0].count.load(ordering: .acquiring) < generation }
                ThreadRank.abort(message: "\(call) waited \(String(format: "%.0f", waited)) s, past --collective-timeout "
                                    + "\(String(format: "%g", collectiveTimeout)) s, for rank\(missing.count == 1 ? "" : "s") "
                                    + "\(missing.map(String.init).joined(separator: ", ")) (finished or stuck); ending the job",
                                 rank: rank, size: size)
            }
        }
    }

    /// The first rank not yet at meeting `generation`, or nil when all are.
    private func firstLate(_ generation: Int) -> Int? {
        for rank in 0..<size where arrivals[rank].count.load(ordering: .acquiring) < generation { return rank }
        return nil
    }
}

/// A closure the rank threads share.
private final class BodyBox<Result>: @unchecked Sendable {
    var body: ((ThreadRank) -> Result)?
    init(_ body: @escaping (ThreadRank) -> Result) { self.body = body }
}

/// One rank's meeting counter (an `Atomic` cannot be an array's element).
private final class Arrival {
    let count = Atomic<Int>(0)
}
