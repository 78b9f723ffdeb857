import Collective
import Distill
import Foundation
import NN

/// This process's place in the job: its communicator, its GEMM backend and threads, and what it may print.
/// Only rank 0 prints progress and results and writes files.
struct Session {
    let communicator: Communicator
    let gemm: GEMMBackend
    let threads: Int
    let plain: Bool

    /// MPI when launched by mpirun (unless `--single-process`), a lone process otherwise;
    /// backend threads = cores / ranks on this node unless `--threads` says otherwise. Every rank must
    /// choose the same backend (checked); a failure ends the job with one line.
    static func start(_ options: RuntimeOptions, announce: Bool = true) -> Session {
        let communicator: Communicator =
            Launch.isUnderMPIRun && !options.singleProcess ? MPICommunicator() : SingleProcess()
        let environment = ProcessInfo.processInfo.environment
        let ranksHere = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? communicator.size
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = options.threads ?? max(1, cores / max(ranksHere, 1))
        let gemm: GEMMBackend
        do {
            try checkSameChoiceOnEveryRank(options.gemm, communicator: communicator)
            gemm = try options.gemm.make()
        } catch {
            communicator.abort(message: "\(error)")
        }
        // The other library gets one thread: nothing runs on it, and it must not oversubscribe the cores.
        for kind in GEMMBackendKind.allCases where kind != options.gemm { kind.setThreads(1) }
        gemm.setThreads(threads)
        let session = Session(communicator: communicator, gemm: gemm, threads: threads, plain: options.plain)
        if announce {
            let mode = communicator is SingleProcess ? "single process" : "MPI"
            session.log("layout: \(communicator.size) rank\(communicator.size == 1 ? "" : "s") (\(mode)) x \(threads) thread\(threads == 1 ? "" : "s"), "
                + "\(ranksHere) rank\(ranksHere == 1 ? "" : "s") on this \(cores)-core node; gemm \(gemm.name): \(gemm.implementation)")
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

/// Every rank must multiply with the same library (their steps would otherwise differ in rounding):
/// one allreduce of the choice and its square, equal on all ranks exactly when `size * sum(x^2) == sum(x)^2`.
private func checkSameChoiceOnEveryRank(_ kind: GEMMBackendKind, communicator: Communicator) throws {
    guard communicator.size > 1 else { return }
    let x = Double(GEMMBackendKind.allCases.firstIndex(of: kind)! + 1)
    var sums = [x, x * x]
    communicator.allreduceSum(&sums)
    guard Double(communicator.size) * sums[1] == sums[0] * sums[0] else {
        throw CommandError("the ranks chose different --gemm backends; give every rank the same flags")
    }
}
