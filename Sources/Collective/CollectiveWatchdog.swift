import CMPI
import Dispatch
import Foundation
import Synchronization

/// Ends the job when one collective waits longer than `timeout` seconds: a rank that stops
/// answering (stopped, swapped out, cut off) would otherwise leave every other rank in MPI forever.
///
/// The communicator marks entry and exit of each blocking collective (two atomic stores, nothing
/// else on the hot path); a thread of its own wakes a few times per timeout and, past the deadline,
/// reports the call and calls `MPI_Abort`, which ends every rank (a stopped one included).
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

    init(timeout: Double, rank: Int, size: Int) {
        (self.timeout, self.rank, self.size) = (timeout, rank, size)
        let thread = Thread { [self] in watch() }
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

    private func watch() {
        let interval = max(0.05, min(1, timeout / 10))
        while true {
            Thread.sleep(forTimeInterval: interval)
            let started = since.load(ordering: .acquiring)
            guard started != 0 else { continue }
            let waited = Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9
            guard waited > timeout else { continue }
            let name = Call(rawValue: call.load(ordering: .relaxed))?.name ?? "a collective"
            StandardError.reportFatal(
                "\(name) (collective \(count.load(ordering: .relaxed)) of this rank) waited \(String(format: "%.0f", waited)) s, "
                    + "past --collective-timeout \(String(format: "%g", timeout)) s: another rank stopped answering "
                    + "(stopped, swapped out or cut off); ending the job", rank: rank, size: size)
            _ = MPI_Abort(cmpi_comm_world(), 3)
            exit(3)
        }
    }
}
