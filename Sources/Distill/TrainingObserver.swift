/// Receives training progress; the CLI draws it (a Keras-like bar or plain lines) on rank 0.
/// Library code never prints: a rank that should stay quiet simply has no observer.
public protocol TrainingObserver: AnyObject {
    func epochBegan(epoch: Int, epochs: Int, steps: Int)
    /// `metrics.values` are running means over the epoch so far (global, across ranks);
    /// valid only during the call.
    func stepEnded(step: Int, steps: Int, metrics: MetricSnapshot)
    func epochEnded(epoch: Int, epochs: Int, metrics: MetricSnapshot, seconds: Double)
}

/// Named metric values, e.g. `["loss", "accuracy"]` with `[0.12, 0.97]`.
public struct MetricSnapshot {
    public let names: [String]
    public let values: UnsafeBufferPointer<Double>
}
