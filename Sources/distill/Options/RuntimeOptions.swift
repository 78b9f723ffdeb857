import ArgumentParser
import NN   // GEMMBackendKind: the values of --gemm

extension GEMMBackendKind: ExpressibleByArgument {}

/// How the process runs: alone, as one rank of an MPI job or as several ranks in threads, on which GEMM library, with how many threads.
struct RuntimeOptions: ParsableArguments {
    @Flag(help: "Run as a single process without MPI, even under mpirun (for debugging).")
    var singleProcess = false

    @Option(help: "Data-parallel ranks as threads of this one process, without MPI: the same shards and collectives as mpirun -np N, with sums taken in rank order (so at N = 2 the same results as mpirun -np 2, bit for bit). Not under mpirun, nor in an srun step of several tasks. 1...1024.")
    var ranks = 1

    @Option(help: "Threads per rank for the GEMM library (OpenMP threads for onednn). Default: cores / ranks on this node, at least 1.")
    var threads: Int?

    @Option(help: "GEMM library for every matrix product: onednn (dispatches on the CPU's features) or openblas.")
    var gemm: GEMMBackendKind = .onednn

    @Option(help: "Seconds one collective may wait for the other ranks before the job ends with an error naming the call and the ranks that did not arrive (stopped or cut off); 0 waits forever, else 1...604800. In a sweep, a rank waits at each round's gather for the slowest run of the round.", transform: decimal)
    var collectiveTimeout: Double = 300

    @Option(help: "Write each phase's metrics per epoch to DIR/<phase>.csv (epoch, metrics, seconds; appended as epochs end). Default: none.")
    var metricsDir: String?

    @Flag(help: "Plain epoch lines instead of a progress bar, even on a terminal (always plain under mpirun).")
    var plain = false

    func validate() throws {
        guard (1...1024).contains(ranks) else { throw ValidationError("--ranks must be in 1...1024, got \(ranks)") }
        if let threads, !(1...4096).contains(threads) { throw ValidationError("--threads must be in 1...4096, got \(threads)") }
        guard collectiveTimeout == 0 || (1...604_800).contains(collectiveTimeout) else {
            throw ValidationError("--collective-timeout must be 0 (wait forever) or in 1...604800 seconds, got \(collectiveTimeout)")
        }
    }
}
