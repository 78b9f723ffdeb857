import Dispatch
import Foundation
import Synchronization

/// SIGTERM (Slurm's preemption, a cancel), SIGINT (Ctrl-C) and SIGUSR1 (what scripts/distill.sbatch
/// sends ahead of a time limit: mpirun forwards it to every rank at once, where a SIGTERM to mpirun is
/// followed by SIGKILL a second later) become a request
/// that training polls once per step; the ranks agree on it through the step's metric allreduce,
/// save their state at that step and exit with `StopRequest.exitCode`. A second signal ends the
/// process at once, unless it comes within `grace` seconds of the first: Slurm signals every process
/// of a job and mpirun passes its own signal on, so one cancel reaches a rank twice within
/// milliseconds, and the second must not cut the save short.
final class StopRequest: @unchecked Sendable {
    /// The exit status of a run stopped on request (EX_TEMPFAIL: try again, with --resume).
    static let exitCode: Int32 = 75

    static let grace: UInt64 = 2_000_000_000   // ns
    private let first = Atomic<UInt64>(0)       // uptime in ns of the first signal; 0 before it
    private var sources: [DispatchSourceSignal] = []

    init() {
        for number in [SIGTERM, SIGINT, SIGUSR1] {
            signal(number, SIG_IGN)   // delivered to the source below instead of ending the process
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let now = DispatchTime.now().uptimeNanoseconds
                let (exchanged, earlier) = first.compareExchange(expected: 0, desired: now, ordering: .relaxed)
                // Two handlers may run at once, so `earlier` can be later than `now`.
                if !exchanged, now > earlier, now - earlier > Self.grace { _exit(128 + number) }
            }
            source.resume()
            sources.append(source)
        }
    }

    var isRequested: Bool { first.load(ordering: .relaxed) > 0 }
}
