import Dispatch
import NN

/// The direct-loop table's yardstick for a `DepthwiseConv2D` layer: oneDNN's own depthwise convolution
/// (NN's `OneDNNDepthwiseConvolution`) on the layer's shape and the profile's batch, on one thread as
/// the layer's loop runs. Rates are the layer's own `bytesMoved` over oneDNN's time, so oneDNN's rate
/// against ours is its time against ours. Backward is backward-data plus backward-weights (and bias),
/// which the layer's one backward pass computes together. Timed after the profiled steps, outside them.
struct OneDNNDepthwiseRates {
    var forwardGBs: Double, backwardGBs: Double
    /// The same passes in the cache state a training step leaves them: 64 MB written elsewhere, then the operand the
    /// step has just produced written again (forward: the input, from the layer below; backward: the output gradient,
    /// from the layer above), while the rest (the output; the stored input and the input gradient) is cold.
    var stepLikeForwardGBs: Double, stepLikeBackwardGBs: Double
    /// oneDNN's implementations, forward / backward data / backward weights (e.g. `jit_dw:avx512_core`).
    var implementation: String

    /// nil when oneDNN refuses the shape (or fails to run it): the table shows "–".
    init?(_ layer: DepthwiseConv2D, batch: Int) {
        guard let convolution = try? OneDNNDepthwiseConvolution(layer, batch: batch),
              let seconds = try? OneDNNDepthwiseConvolution.onOneThread({
                  try OneDNNDepthwiseConvolution.Pass.allCases.map { pass in try Self.secondsPerRun { try convolution.run(pass) } }
              }) else { return nil }
        let bytes = layer.bytesMoved(batch: batch)
        forwardGBs = Double(bytes.forward) / seconds[0] / 1e9
        backwardGBs = Double(bytes.backward) / (seconds[1] + seconds[2]) / 1e9
        guard let stepLike = try? OneDNNDepthwiseConvolution.onOneThread({ try Self.stepLikeSeconds(convolution) }) else { return nil }
        stepLikeForwardGBs = Double(bytes.forward) / stepLike.forward / 1e9
        stepLikeBackwardGBs = Double(bytes.backward) / stepLike.backward / 1e9
        implementation = OneDNNDepthwiseConvolution.Pass.allCases.map { convolution.implementations[$0] ?? "?" }.joined(separator: " / ")
    }

    /// Seconds per forward pass and per backward pass (data and weights) in the step's cache state (above), mean of 20.
    static func stepLikeSeconds(_ convolution: OneDNNDepthwiseConvolution) throws -> (forward: Double, backward: Double) {
        let eviction = CacheEviction()
        var (forward, backward): (UInt64, UInt64) = (0, 0)
        for round in 0..<20 {
            eviction.evict(round: round)
            for i in 0..<convolution.inputCount { convolution.input[i] = Float(i & 15) / 16 - 0.5 }
            var start = DispatchTime.now().uptimeNanoseconds
            try convolution.run(.forward)
            forward += DispatchTime.now().uptimeNanoseconds - start
            eviction.evict(round: round)
            for i in 0..<convolution.outputCount { convolution.outputGradient[i] = Float(i & 15) / 16 - 0.5 }
            start = DispatchTime.now().uptimeNanoseconds
            try convolution.run(.backwardData)
            try convolution.run(.backwardWeights)
            backward += DispatchTime.now().uptimeNanoseconds - start
        }
        return (Double(forward) / 20e9, Double(backward) / 20e9)
    }

    /// Seconds per call of `body`: one warm-up call, then calls back to back for at least 0.1 s.
    static func secondsPerRun(_ body: () throws -> Void) throws -> Double {
        try body()
        var repeats = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            try body()
            repeats += 1
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while elapsed < 100_000_000
        return Double(elapsed) / 1e9 / Double(repeats)
    }
}
