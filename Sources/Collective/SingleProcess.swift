import Foundation

/// A job of one process, with no MPI at all: rank 0 of 1. Reductions and broadcasts
/// leave buffers as they are, `allgatherv` copies, and `abort` exits with status 1.
/// Arguments are checked exactly as `MPICommunicator` checks them.
public final class SingleProcess: Communicator {
    public let rank = 0
    public let size = 1
    public let localSize = 1
    public var transport: String { "single process" }

    public init() {}

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {}

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {}

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) {
        do { try CollectiveError.checkRoot(root, size: size, in: "broadcast") } catch { abort(message: error.message) }
    }

    public func allgatherv(send: UnsafeBufferPointer<Float>, receive: UnsafeMutableBufferPointer<Float>, counts: [Int]) {
        do {
            _ = try GatherLayout(counts: counts, rank: rank, size: size, sendCount: send.count, receiveCount: receive.count)
        } catch {
            abort(message: error.message)
        }
        guard let source = send.baseAddress, let destination = receive.baseAddress else { return }  // count 0
        destination.update(from: source, count: send.count)
    }

    public func barrier() {}

    public func finalize() {}

    public func abort(message: String) -> Never {
        StandardError.reportFatal(message, rank: rank, size: size)
        exit(1)
    }
}
