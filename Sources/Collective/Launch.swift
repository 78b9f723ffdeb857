import Foundation

/// How this process was started.
public enum Launch {
    /// Whether a process manager started this process as a rank of a parallel job:
    /// `OMPI_COMM_WORLD_SIZE` (Open MPI's `mpirun`) or `PMI_SIZE` (MPICH, Slurm) is set.
    public static var isUnderMPIRun: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"].contains { !(environment[$0] ?? "").isEmpty }
    }
}
