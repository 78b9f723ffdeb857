import Foundation
import Synchronization

/// One rank of a `ThreadGroup`: a thread of this process that takes the job's collectives with
/// the group's other threads, through shared memory, with no MPI.
///
/// Sums are taken element by element in rank order, `((b0 + b1) + b2) + ...`, whichever thread adds:
/// results never depend on timing, and with two ranks they equal MPI's bit for bit (IEEE addition
/// is commutative, so `b0 + b1` is what any MPI reduction of two gives). Each rank sums one
/// contiguous part of the elements and writes it to every rank's buffer. Arguments are checked as
/// `MPICommunicator` checks them, and ranks that pass different counts are named; `abort` ends
/// the whole process.
public final class ThreadRank: Communicator {
    public let rank: Int
    let group: ThreadGroup
    private var generation = 0
    private var isFinalized = false

    init(rank: Int, group: ThreadGroup) { (self.rank, self.group) = (rank, group) }

    public var size: Int { group.size }
    public var localSize: Int { group.size }
    public var transport: String { "threads" }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) { sum(buffer, call: "allreduceSum (Float)") }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) { sum(buffer, call: "allreduceSum (Double)") }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        let call = "broadcast"
        do { try CollectiveError.checkRoot(root, size: size, in: call) } catch { abort(message: error.message) }
        post(buffer.baseAddress, count: buffer.count, call: call)
        if rank != root, let source = group.addresses[root]?.assumingMemoryBound(to: Float.self) {
            buffer.baseAddress?.update(from: source, count: buffer.count)
        }
        meet(call)   // the root's buffer is read until here
    }

    public func allgatherv(send: UnsafeBufferPointer<Float>, receive: UnsafeMutableBufferPointer<Float>, counts: [Int]) {
        let call = "allgatherv"
        let layout: GatherLayout
        do {
            layout = try GatherLayout(counts: counts, rank: rank, size: size, sendCount: send.count, receiveCount: receive.count)
        } catch {
            abort(message: error.message)
        }
        post(UnsafeMutableRawPointer(mutating: send.baseAddress), count: send.count, call: call, sameCount: false)
        for source in 0..<size where group.counts[source] != Int(layout.counts[source]) {
            abort(message: "\(call): rank \(source) sends \(group.counts[source]) elements but rank \(rank) expects \(layout.counts[source]) from it")
        }
        for source in 0..<size where layout.counts[source] > 0 {
            guard let from = group.addresses[source]?.assumingMemoryBound(to: Float.self), let to = receive.baseAddress else { continue }
            (to + Int(layout.displacements[source])).update(from: from, count: Int(layout.counts[source]))
        }
        meet(call)
    }

    public func barrier() {
        checkUsable("barrier")
        meet("barrier")
    }

    public func finalize() { isFinalized = true }

    public func abort(message: String) -> Never { Self.abort(message: message, rank: rank, size: size) }

    /// The first rank of a process to abort reports and ends the process; any other waits for that end.
    static func abort(message: String, rank: Int, size: Int) -> Never {
        if aborting.exchange(true, ordering: .acquiringAndReleasing) {
            while true { pause() }
        }
        StandardError.reportFatal(message, rank: rank, size: size)
        _exit(1)   // not exit(): the other ranks' threads are still running
    }

    private static let aborting = Atomic<Bool>(false)

    // MARK: - Helpers

    /// Every rank's `buffer` replaced by the rank-order sum of all of them.
    private func sum<Element: FloatingPoint>(_ buffer: UnsafeMutableBufferPointer<Element>, call: String) {
        post(buffer.baseAddress, count: buffer.count, call: call)
        let count = buffer.count
        let part = (count * rank / size)..<(count * (rank + 1) / size)
        if !part.isEmpty {
            let first = group.addresses[0]!.assumingMemoryBound(to: Element.self)
            for source in 1..<size {
                let other = group.addresses[source]!.assumingMemoryBound(to: Element.self)
                for i in part { first[i] += other[i] }
            }
            for target in 1..<size {
                (group.addresses[target]!.assumingMemoryBound(to: Element.self) + part.lowerBound)
                    .update(from: first + part.lowerBound, count: part.count)
            }
        }
        meet(call)   // every part is summed and written
    }

    /// Posts this rank's buffer, meets the others, and (unless `sameCount` is false) checks that every
    /// rank posted as many elements. Nothing posted changes before the collective's last meeting.
    private func post(_ address: UnsafeMutableRawPointer?, count: Int, call: String, sameCount: Bool = true) {
        checkUsable(call)
        group.addresses[rank] = address
        group.counts[rank] = count
        meet(call)
        for other in 0..<size where sameCount && group.counts[other] != count {
            abort(message: "\(call): rank \(rank) passes \(count) elements but rank \(other) passes \(group.counts[other])")
        }
    }

    private func meet(_ call: String) {
        generation += 1
        group.meet(rank: rank, generation: generation, call: call)
    }

    /// Aborts when a collective is called after `finalize()`, as `MPICommunicator` does.
    private func checkUsable(_ call: String) {
        if isFinalized { abort(message: "\(call) called after finalize()") }
    }
}
