import CMPI
import Dispatch
import Foundation
import Synchronization

/// Ends the job when one collective waits longer than `timeout` seconds: a rank that stops
/// answering (stopped, swapped out, cut off) would otherwise leave every other rank in MPI forever.
///
/// The communicator marks entry and exit of each blocking collective (two atomic stores, nothing
/// else on the hot path); a thread of its own wakes a few times a second and, past the deadline,
/// asks the other ranks over a side channel how far they are (`RollCallChannel`), reports the
/// call and the ranks that did not arrive, and calls `MPI_Abort`, which ends every rank (a
/// stopped one included). Without a side channel (no `MPI_THREAD_MULTIPLE`) it names the call only.
final class CollectiveWatchdog: @unchecked Sendable {
    enum Call: Int {
        case none, allreduce, broadcast, allgatherv, barrier
        var name: String { ["-", "MPI_Allreduce", "MPI_Bcast", "MPI_Allgatherv", "MPI_Barrier"][rawValue] }
    }

    let timeout: Double
    private let rank: Int, size: Int
    private let since = Atomic<UInt64>(0)   // uptime in ns when the current collective began; 0 outside one
    private let call = Atomic<Int>(0)
    private let count = Atomic<Int>(0)      // collectives begun, to name the one that hung
    private let stopping = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    /// `sideChannel`: a duplicate of the world communicator for the roll call, or nil.
    init(timeout: Double, rank: Int, size: Int, sideChannel: MPI_Comm?) {
        (self.timeout, self.rank, self.size) = (timeout, rank, size)
        nonisolated(unsafe) let sideChannel = sideChannel   // an MPI handle, used only by the thread below
        let thread = Thread { [self] in
            let channel = sideChannel.map { RollCallChannel(comm: $0, rank: rank, size: size) }
            watch(channel)
            channel?.close()
            stopped.signal()
        }
        thread.name = "collective-watchdog"
        thread.start()
    }

    @inline(__always)
    func enter(_ call: Call) {
        self.call.store(call.rawValue, ordering: .relaxed)
        count.add(1, ordering: .relaxed)
        since.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
    }

    @inline(__always)
    func leave() { since.store(0, ordering: .releasing) }

    /// Ends the thread (and withdraws its side-channel receive) before MPI is finalized.
    func stop() {
        stopping.store(true, ordering: .releasing)
        stopped.wait()
    }

    private func watch(_ channel: RollCallChannel?) {
        // Often enough to answer another rank's roll call well within its grace period.
        let interval = max(0.02, min(0.25, timeout / 10))
        while !stopping.load(ordering: .acquiring) {
            Thread.sleep(forTimeInterval: interval)
            let started = since.load(ordering: .acquiring)
            channel?.answerQuestions(collectivesBegun: count.load(ordering: .relaxed), isInCollective: started != 0)
            guard started != 0 else { continue }
            let waited = Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9
            guard waited > timeout else { continue }
            let collective = count.load(ordering: .relaxed)
            let name = Call(rawValue: call.load(ordering: .relaxed))?.name ?? "a collective"
            let whoIsMissing = channel.map { "; " + $0.rollCall(collective: collective, grace: 2 + 4 * interval).summary }
                ?? ": another rank stopped answering (stopped, swapped out or cut off)"
            StandardError.reportFatal(
                "\(name) (collective \(collective) of this rank) waited \(String(format: "%.0f", waited)) s, "
                    + "past --collective-timeout \(String(format: "%g", timeout)) s\(whoIsMissing); ending the job",
                rank: rank, size: size)
            _ = MPI_Abort(cmpi_comm_world(), 3)
            exit(3)
        }
    }
}
