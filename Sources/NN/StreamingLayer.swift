/// A layer whose time is set by memory traffic rather than by arithmetic (a direct loop, no GEMM):
/// the bytes one pass of `batch` samples must at least read and write, which the step profile
/// divides by the pass's time and compares with a plain memory copy of the same size; and the
/// multiply-adds the pass must at least do, which bound its bytes per second from above at the
/// machine's multiply-add peak.
public protocol StreamingLayer: Layer {
    func bytesMoved(batch: Int) -> (forward: Int, backward: Int)
    func multiplyAdds(batch: Int) -> (forward: Int, backward: Int)
}
