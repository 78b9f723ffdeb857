import Foundation

/// How this process was started, and the communicator that follows from it.
public enum Launch {
    /// A process manager's variables that say this process is one task of a parallel job:
    /// Open MPI's mpirun, PMIx (srun --mpi=pmix, prterun), PMI-1/PMI-2 (MPICH, srun --mpi=pmi2).
    static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"]

    /// Whether a process manager started this process as a task of a parallel job.
    public static func isParallelLaunch(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        launcherVariables.contains { !(environment[$0] ?? "").isEmpty }
    }

    /// The number of tasks the environment says the job has, and the variable that says so.
    static func expectedTasks(_ environment: [String: String]) -> (count: Int, variable: String)? {
        for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"] {
            if let value = environment[name].flatMap(Int.init) { return (value, name) }
        }
        return nil
    }

    /// Whether srun started this process as a task of a job step (a batch script's own process has no step).
    static func isSlurmStepTask(_ environment: [String: String]) -> Bool {
        environment["SLURM_STEP_ID"] != nil && environment["SLURM_PROCID"] != nil
    }

    /// Why this launch cannot go on, given the size MPI reported (nil when MPI did not start); nil when it can.
    /// Several tasks that each run alone would train N separate models and all write the same files.
    public static func problem(environment: [String: String], mpiSize: Int?) -> String? {
        guard let (expected, variable) = expectedTasks(environment), expected > 1 else { return nil }
        switch mpiSize {
        case nil where isSlurmStepTask(environment):
            return "\(variable)=\(expected) says this is one of \(expected) tasks, but no MPI launch environment (PMIx or PMI) is set: "
                + "start the job with srun --mpi=pmix or mpirun, or pass --single-process to run each task alone on purpose"
        case let size? where size != expected:
            return "\(variable)=\(expected) says the job has \(expected) tasks, but MPI started this one in a job of \(size): "
                + "the launcher and Open MPI do not understand each other (with Slurm, use srun --mpi=pmix or mpirun inside the allocation)"
        default:
            return nil
        }
    }

    /// Why `ranks` ranks cannot run as threads of this process, or nil when they can: a process manager
    /// (mpirun, or srun for a step of several tasks) started it as a task of a parallel job, whose rank
    /// count is the launcher's to set. A batch script's own process (SLURM_NTASKS set, no step) may.
    public static func threadRanksProblem(_ ranks: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard ranks > 1 else { return nil }
        let tasks = expectedTasks(environment)
        guard isParallelLaunch(environment) || (isSlurmStepTask(environment) && (tasks?.count ?? 1) > 1) else { return nil }
        return "--ranks \(ranks) runs the ranks as threads of this one process, but a launcher started it as a task of a parallel job"
            + (tasks.map { " (\($0.variable)=\($0.count))" } ?? "") + ": give the rank count to the launcher (mpirun -np, srun -n) or run without it"
    }

    /// MPI when a process manager started this process (unless `singleProcess`), one process otherwise.
    /// Throws when the environment and MPI disagree on the number of tasks. The ranks first check that
    /// they agree on `items` (the command line): a rank given other flags would take other collectives.
    /// `singleProcess` under mpirun with several tasks still joins MPI for that check, so a rank that
    /// alone was told to run alone is named, not left for the others to wait on; then it runs alone.
    public static func communicator(singleProcess: Bool, collectiveTimeout: Double?,
                                    agreeing items: [(name: String, hash: UInt64)] = []) throws -> Communicator {
        let environment = ProcessInfo.processInfo.environment
        let parallel = isParallelLaunch(environment)
        if singleProcess {
            if parallel, let (expected, _) = expectedTasks(environment), expected > 1 {
                let mpi = MPICommunicator(collectiveTimeout: collectiveTimeout)
                do { try mpi.checkAgreement(items) } catch { mpi.abort(message: "\(error)") }
                mpi.finalize()
            }
            return SingleProcess()
        }
        guard parallel else {
            if let problem = problem(environment: environment, mpiSize: nil) { throw LaunchError(description: problem) }
            return SingleProcess()
        }
        let mpi = MPICommunicator(collectiveTimeout: collectiveTimeout)
        if let problem = problem(environment: environment, mpiSize: mpi.size) { mpi.abort(message: problem) }
        do { try mpi.checkAgreement(items) } catch { mpi.abort(message: "\(error)") }
        return mpi
    }
}

/// A launch that cannot go on, with a one-line reason.
public struct LaunchError: Error, CustomStringConvertible {
    public let description: String
}
