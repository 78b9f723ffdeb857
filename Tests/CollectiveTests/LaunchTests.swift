@testable import Collective
import XCTest

/// Launch detection: an environment that says there are several tasks must never become several
/// independent single-process runs.
final class LaunchTests: XCTestCase {
    func testLaunchersAreRecognised() {
        XCTAssertTrue(Launch.isParallelLaunch(["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(Launch.isParallelLaunch(["PMIX_RANK": "0", "SLURM_NTASKS": "2"]))
        XCTAssertTrue(Launch.isParallelLaunch(["PMI_RANK": "1", "PMI_SIZE": "2"]))
        XCTAssertFalse(Launch.isParallelLaunch(["SLURM_NTASKS": "2", "SLURM_PROCID": "0"]))
        XCTAssertFalse(Launch.isParallelLaunch([:]))
    }

    func testSeveralTasksThatMPIStartsAloneAreAnError() {
        // srun --mpi=pmix without a PMIx-aware MPI: each task would be "rank 0 of 1".
        let pmix = ["PMIX_RANK": "0", "SLURM_NTASKS": "2", "SLURM_STEP_NUM_TASKS": "2", "SLURM_STEP_ID": "0", "SLURM_PROCID": "0"]
        let problem = Launch.problem(environment: pmix, mpiSize: 1)
        XCTAssertNotNil(problem)
        XCTAssertTrue(problem?.contains("SLURM_STEP_NUM_TASKS=2") == true, problem ?? "")
        XCTAssertNil(Launch.problem(environment: pmix, mpiSize: 2))
    }

    func testASlurmStepOfSeveralTasksWithoutMPIIsAnError() {
        let srun = ["SLURM_STEP_NUM_TASKS": "2", "SLURM_STEP_ID": "0", "SLURM_PROCID": "1"]
        XCTAssertTrue(Launch.problem(environment: srun, mpiSize: nil)?.contains("srun --mpi=pmix") == true)
        // A batch script run directly (no step, or a step of one task) is a plain single process.
        XCTAssertNil(Launch.problem(environment: ["SLURM_NTASKS": "4", "SLURM_PROCID": "0"], mpiSize: nil))
        XCTAssertNil(Launch.problem(environment: ["SLURM_STEP_NUM_TASKS": "1", "SLURM_STEP_ID": "0", "SLURM_PROCID": "0"], mpiSize: nil))
    }

    func testMpirunInsideALargerAllocationTrustsMpirun() {
        // mpirun -np 1 inside a 4-task allocation: Open MPI's own count wins.
        XCTAssertNil(Launch.problem(environment: ["OMPI_COMM_WORLD_SIZE": "1", "SLURM_NTASKS": "4"], mpiSize: 1))
        XCTAssertNotNil(Launch.problem(environment: ["OMPI_COMM_WORLD_SIZE": "2"], mpiSize: 1))
    }
}
