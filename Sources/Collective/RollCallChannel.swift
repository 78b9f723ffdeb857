import CMPI
import Dispatch
import Foundation

/// The watchdog's side channel: a duplicate of the world communicator on which each rank's
/// watchdog thread answers "how far are you?" and, when a collective waits past the timeout,
/// asks it of every other rank. Needs `MPI_THREAD_MULTIPLE` (the main thread may be inside a
/// collective meanwhile). Messages are two 64-bit integers; nothing here touches the hot path.
final class RollCallChannel {
    private static let queryTag: Int32 = 1, answerTag: Int32 = 2
    private let comm: MPI_Comm
    private let rank: Int, size: Int
    private var query: MPI_Request? = cmpi_request_null()
    private let incoming = UnsafeMutablePointer<Int64>.allocate(capacity: 2)

    /// Called on the watchdog thread; `comm` is owned (freed) by the communicator.
    init(comm: MPI_Comm, rank: Int, size: Int) {
        (self.comm, self.rank, self.size) = (comm, rank, size)
        postQuery()
    }

    /// Answers every question that has come in (from ranks running their own roll call).
    func answerQuestions(collectivesBegun: Int, isInCollective: Bool) {
        while query != cmpi_request_null() {
            var flag: Int32 = 0
            var status = MPI_Status()
            guard MPI_Test(&query, &flag, &status) == cmpi_success(), flag != 0 else { return }
            var answer: [Int64] = [Int64(collectivesBegun), isInCollective ? 1 : 0]
            // Two integers go eagerly: this send completes without the asker's help.
            _ = MPI_Send(&answer, 2, cmpi_int64(), status.MPI_SOURCE, Self.answerTag, comm)
            postQuery()
        }
    }

    /// Asks every other rank how far it is, answering questions meanwhile, and waits up to
    /// `grace` seconds for the answers.
    func rollCall(collective: Int, grace: Double) -> RollCall {
        let others = (0..<size).filter { $0 != rank }
        let answers = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * size)
        let questions = UnsafeMutablePointer<Int64>.allocate(capacity: size)
        questions.initialize(repeating: Int64(collective), count: size)
        var receives = [MPI_Request?](repeating: cmpi_request_null(), count: size)
        var sends = [MPI_Request?](repeating: cmpi_request_null(), count: size)
        for other in others {
            _ = MPI_Irecv(answers + 2 * other, 2, cmpi_int64(), Int32(other), Self.answerTag, comm, &receives[other])
            _ = MPI_Isend(questions + other, 1, cmpi_int64(), Int32(other), Self.queryTag, comm, &sends[other])
        }
        var result = RollCall(rank: rank, collective: collective, answers: Array(repeating: nil, count: size))
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(grace * 1e9)
        while DispatchTime.now().uptimeNanoseconds < deadline, others.contains(where: { result.answers[$0] == nil }) {
            answerQuestions(collectivesBegun: collective, isInCollective: true)
            for other in others where result.answers[other] == nil && receives[other] != cmpi_request_null() {
                var flag: Int32 = 0
                guard MPI_Test(&receives[other], &flag, cmpi_status_ignore()) == cmpi_success(), flag != 0 else { continue }
                result.answers[other] = RollCall.Answer(collectivesBegun: Int(answers[2 * other]), isInCollective: answers[2 * other + 1] != 0)
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        // The job ends next (MPI_Abort), so the requests still pending and their buffers stay as they are.
        return result
    }

    /// Withdraws the standing receive; call before the communicator is freed.
    func close() {
        if query != cmpi_request_null() {
            _ = MPI_Cancel(&query)
            _ = MPI_Wait(&query, cmpi_status_ignore())
        }
        incoming.deallocate()
    }

    private func postQuery() {
        if MPI_Irecv(incoming, 1, cmpi_int64(), cmpi_any_source(), Self.queryTag, comm, &query) != cmpi_success() {
            query = cmpi_request_null()   // no more answers from this rank; the job still runs
        }
    }
}
