import CKernels
import Collective
import Dispatch

/// One thread's multiply-add peak, measured in the same run as the figures divided by it: CKernels'
/// loop of independent fused multiply-adds on the widest vectors the CPU has (AVX-512 or AVX2 with
/// FMA; SSE2's separate multiplies and adds on an x86-64 without them). A GEMM cannot beat it, and a
/// layer's bytes per second cannot beat its bytes over the time its multiply-adds take at this rate.
public struct MultiplyAddPeak {
    /// GFLOPS of one thread, two FLOPs per multiply-add.
    public let gflopsPerThread: Double
    /// The instruction set the loop ran: "avx512f", "avx2+fma" or "sse2".
    public let instructionSet: String

    /// The loop on the calling thread for at least `seconds`, after a warm-up; every rank measures at
    /// once (as they compute at once) and the figure is the ranks' mean.
    public static func measure(communicator: Communicator, seconds: Double = 0.2) -> MultiplyAddPeak {
        communicator.barrier()
        let measured = measure(seconds: seconds)
        var sum = [measured.gflopsPerThread]
        communicator.allreduceSum(&sum)
        return MultiplyAddPeak(gflopsPerThread: sum[0] / Double(communicator.size), instructionSet: measured.instructionSet)
    }

    static func measure(seconds: Double) -> MultiplyAddPeak {
        var isa: UnsafePointer<CChar>?
        var sum: Float = 0
        _ = distill_multiply_add_loop(1_000_000, &isa, &sum)
        var multiplyAdds = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            multiplyAdds += distill_multiply_add_loop(2_000_000, &isa, &sum)
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while Double(elapsed) < seconds * 1e9
        return MultiplyAddPeak(gflopsPerThread: 2 * multiplyAdds / Double(elapsed), instructionSet: isa.map { String(cString: $0) } ?? "?")
    }

    /// What was measured: "avx512f fused multiply-adds, measured in this run".
    public var source: String {
        "\(instructionSet) \(instructionSet == "sse2" ? "multiplies and adds" : "fused multiply-adds"), measured in this run"
    }

    /// How the tables name it: "117.0 GFLOPS per thread (avx512f fused multiply-adds, measured in this run)".
    public var description: String { "\(fixed(gflopsPerThread, 1)) GFLOPS per thread (\(source))" }
}
