import Collective
import Distill
import Foundation
import NN

/// This process's place in the job: its communicator, its BLAS threads, and what it may print.
/// Only rank 0 prints progress and results and writes files.
struct Session {
    let communicator: Communicator
    let threads: Int
    let plain: Bool

    /// MPI when launched by mpirun (unless `--single-process`), a lone process otherwise;
    /// OpenBLAS threads = cores / ranks on this node unless `--threads` says otherwise.
    static func start(_ options: RuntimeOptions, announce: Bool = true) -> Session {
        let communicator: Communicator =
            Launch.isUnderMPIRun && !options.singleProcess ? MPICommunicator() : SingleProcess()
        let environment = ProcessInfo.processInfo.environment
        let ranksHere = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? communicator.size
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = options.threads ?? max(1, cores / max(ranksHere, 1))
        BLASThreads.set(threads)
        let session = Session(communicator: communicator, threads: threads, plain: options.plain)
        if announce {
            let mode = communicator is SingleProcess ? "single process" : "MPI"
            session.log("layout: \(communicator.size) rank\(communicator.size == 1 ? "" : "s") (\(mode)) x \(threads) OpenBLAS thread\(threads == 1 ? "" : "s"), \(ranksHere) rank\(ranksHere == 1 ? "" : "s") on this \(cores)-core node")
        }
        return session
    }

    var isRoot: Bool { communicator.isRoot }

    /// A line on standard output, from rank 0 only.
    func log(_ line: String) {
        guard isRoot else { return }
        print(line)
        fflush(stdout)
    }

    /// Progress for one training phase: a bar on a terminal, plain lines otherwise; nil off rank 0.
    /// Under mpirun always plain lines: Open MPI hands each rank a pseudo-terminal whether or not
    /// mpirun's own output is one, so a rank cannot tell, and a redrawn bar would flood a log file.
    func observer(_ phase: String) -> TrainingObserver? {
        guard isRoot else { return nil }
        return ProgressPrinter(phase: phase, bar: !plain && communicator is SingleProcess && isatty(STDOUT_FILENO) != 0)
    }

    /// Runs the command's work; any error ends the whole job with one line on standard error and a
    /// non-zero exit (MPI_Abort when there are other ranks, so none is left waiting).
    func run(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            communicator.abort(message: "\(error)")
        }
        (communicator as? MPICommunicator)?.finalize()
    }
}
