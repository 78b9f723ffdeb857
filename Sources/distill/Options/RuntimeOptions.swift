import ArgumentParser

/// How the process runs: alone or as one rank of an MPI job, and with how many BLAS threads.
struct RuntimeOptions: ParsableArguments {
    @Flag(help: "Run as a single process without MPI, even under mpirun (for debugging).")
    var singleProcess = false

    @Option(help: "OpenBLAS threads per rank. Default: cores / ranks on this node, at least 1.")
    var threads: Int?

    @Flag(help: "Plain epoch lines instead of a progress bar, even on a terminal (always plain under mpirun).")
    var plain = false

    func validate() throws {
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    }
}
