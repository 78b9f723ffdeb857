import CMPI
import Foundation

/// The ranks of `MPI_COMM_WORLD`.
///
/// `init()` initialises MPI (unless something already has) and switches the world
/// communicator to `MPI_ERRORS_RETURN`, so that every failing MPI call comes back here
/// and ends the job through `abort(message:)`, naming the call and MPI's error string.
/// Call `finalize()` once the job's work is done, on every rank.
///
/// With a `collectiveTimeout`, a watchdog ends the job when one collective has waited that long
/// (a rank stopped, swapped out or cut off), instead of leaving every other rank waiting forever.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public let localSize: Int
    public var transport: String { "MPI" }
    private var isFinalized = false
    private var watchdog: CollectiveWatchdog?
    private var sideChannel: MPI_Comm?   // the watchdog's roll call; a duplicate of the world

    /// `collectiveTimeout` in seconds; nil waits forever.
    public init(collectiveTimeout: Double? = nil) {
        var initialized: Int32 = 0
        if MPI_Initialized(&initialized) != cmpi_success() {
            Self.exitBeforeMPI("MPI_Initialized failed")
        }
        // Threads: the watchdog's roll call talks MPI while the main thread waits in a collective.
        var threads: Int32 = 0
        if initialized == 0 {
            // Without a watchdog no second thread talks MPI: single-threaded MPI keeps every call lock-free.
            let wanted = collectiveTimeout == nil ? Int32(cmpi_thread_single()) : Int32(cmpi_thread_multiple())
            if MPI_Init_thread(nil, nil, wanted, &threads) != cmpi_success() {
                Self.exitBeforeMPI("MPI_Init_thread failed")
            }
        } else if MPI_Query_thread(&threads) != cmpi_success() {
            Self.exitBeforeMPI("MPI_Query_thread failed")
        }
        // Until the handler is switched, MPI's default (MPI_ERRORS_ARE_FATAL) applies.
        Self.check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank32: Int32 = 0
        var size32: Int32 = 0
        Self.check(MPI_Comm_rank(cmpi_comm_world(), &rank32), "MPI_Comm_rank")
        Self.check(MPI_Comm_size(cmpi_comm_world(), &size32), "MPI_Comm_size")
        rank = Int(rank32)
        size = Int(size32)
        // The ranks that share this node's memory (and cores).
        var local = cmpi_comm_world()
        Self.check(MPI_Comm_split_type(cmpi_comm_world(), cmpi_comm_type_shared(), 0, cmpi_info_null(), &local), "MPI_Comm_split_type")
        var local32: Int32 = 0
        Self.check(MPI_Comm_size(local, &local32), "MPI_Comm_size")
        localSize = Int(local32)
        Self.check(MPI_Comm_free(&local), "MPI_Comm_free")
        if let collectiveTimeout {
            if size > 1, threads >= Int32(cmpi_thread_multiple()) {
                var duplicate = cmpi_comm_world()
                Self.check(MPI_Comm_dup(cmpi_comm_world(), &duplicate), "MPI_Comm_dup")
                sideChannel = duplicate
            }
            watchdog = CollectiveWatchdog(timeout: collectiveTimeout, rank: rank, size: size, sideChannel: sideChannel)
        }
    }

    /// Ends this process's part in MPI. Later calls do nothing; collectives after it abort.
    public func finalize() {
        guard !isFinalized else { return }
        var finalized: Int32 = 0
        check(MPI_Finalized(&finalized), "MPI_Finalized")
        if finalized == 0 {
            watchdog?.stop()
            watchdog = nil
            if sideChannel != nil { check(MPI_Comm_free(&sideChannel), "MPI_Comm_free") }
            sideChannel = nil
            check(MPI_Finalize(), "MPI_Finalize")
        }
        isFinalized = true
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        allreduceSum(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_float())
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        allreduceSum(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_double())
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        checkUsable("MPI_Bcast")
        let count: Int32
        do {
            try CollectiveError.checkRoot(root, size: size, in: "MPI_Bcast")
            count = try CollectiveError.mpiCount(buffer.count, in: "MPI_Bcast")
        } catch {
            abort(message: error.message)
        }
        watchdog?.enter(.broadcast)
        check(MPI_Bcast(buffer.baseAddress, count, cmpi_float(), Int32(root), cmpi_comm_world()), "MPI_Bcast")
        watchdog?.leave()
    }

    public func allgatherv(send: UnsafeBufferPointer<Float>, receive: UnsafeMutableBufferPointer<Float>, counts: [Int]) {
        checkUsable("MPI_Allgatherv")
        let layout: GatherLayout
        do {
            layout = try GatherLayout(counts: counts, rank: rank, size: size, sendCount: send.count, receiveCount: receive.count)
        } catch {
            abort(message: error.message)
        }
        watchdog?.enter(.allgatherv)
        defer { watchdog?.leave() }
        let code = layout.counts.withUnsafeBufferPointer { counts in
            layout.displacements.withUnsafeBufferPointer { displacements in
                MPI_Allgatherv(
                    send.baseAddress, counts[rank], cmpi_float(),
                    receive.baseAddress, counts.baseAddress, displacements.baseAddress, cmpi_float(),
                    cmpi_comm_world())
            }
        }
        check(code, "MPI_Allgatherv")
    }

    public func barrier() {
        checkUsable("MPI_Barrier")
        watchdog?.enter(.barrier)
        check(MPI_Barrier(cmpi_comm_world()), "MPI_Barrier")
        watchdog?.leave()
    }

    public func abort(message: String) -> Never {
        Self.abort(message: message, rank: rank, size: size, isFinalized: isFinalized)
    }

    // MARK: - Helpers

    /// `MPI_Allreduce` in place of `count` elements of `type` at `buffer`.
    private func allreduceSum(_ buffer: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype) {
        checkUsable("MPI_Allreduce")
        let count32: Int32
        do { count32 = try CollectiveError.mpiCount(count, in: "MPI_Allreduce") } catch { abort(message: error.message) }
        watchdog?.enter(.allreduce)
        check(MPI_Allreduce(cmpi_in_place(), buffer, count32, type, cmpi_sum(), cmpi_comm_world()), "MPI_Allreduce")
        watchdog?.leave()
    }

    /// Aborts unless `code` is `MPI_SUCCESS`, naming `call` and MPI's error string.
    private func check(_ code: Int32, _ call: StaticString) {
        guard code != cmpi_success() else { return }
        abort(message: Self.failure(of: call, code: code))
    }

    /// `check` for `init`, before the rank and size are known.
    private static func check(_ code: Int32, _ call: StaticString) {
        guard code != cmpi_success() else { return }
        abort(message: failure(of: call, code: code), rank: 0, size: 1, isFinalized: false)
    }

    private static func failure(of call: StaticString, code: Int32) -> String {
        "\(call) failed: \(errorString(code)) (MPI error code \(code))"
    }

    /// Reports `message`, then ends every rank through `MPI_Abort` (or just this
    /// process once MPI is finalized).
    private static func abort(message: String, rank: Int, size: Int, isFinalized: Bool) -> Never {
        StandardError.reportFatal(message, rank: rank, size: size)
        if !isFinalized {
            _ = MPI_Abort(cmpi_comm_world(), 1)  // ends every rank; does not return
        }
        exit(1)
    }

    /// Aborts when a collective is called after `finalize()`, which MPI forbids.
    private func checkUsable(_ call: StaticString) {
        if isFinalized { abort(message: "\(call) called after MPICommunicator.finalize()") }
    }

    /// MPI's text for an error code.
    private static func errorString(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &text, &length) == cmpi_success() else { return "unknown MPI error" }
        return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Ends the process when MPI itself could not start, so `MPI_Abort` is not available.
    private static func exitBeforeMPI(_ message: String) -> Never {
        StandardError.reportFatal(message, rank: 0, size: 1)
        exit(1)
    }
}
