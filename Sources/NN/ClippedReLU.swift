/// Keras 3's `relu(x, negative_slope, max_value, threshold)` in full, for the ReLUs that are not a
/// plain `LeakyReLU` (a `max_value` cap such as MobileNet's ReLU6, or a nonzero `threshold`):
///
///     y = (x > threshold ? x : 0)              (threshold 0: max(x, 0))
///     y = min(max(y, 0), max_value)            (when max_value is given)
///     y = y - negative_slope * max(threshold - x, 0)
///
/// The gradient is 1 where x passes the threshold and lies inside the cap, plus `negative_slope`
/// below the threshold (Keras's kinks are measure-zero and go to the zero side).
public final class ClippedReLU: Layer {
    public let negativeSlope: Float, maxValue: Float?, threshold: Float
    public var kind: String { "re_lu" }
    private var size = 0

    public init(negativeSlope: Float = 0, maxValue: Float? = nil, threshold: Float = 0) {
        (self.negativeSlope, self.maxValue, self.threshold) = (negativeSlope, maxValue, threshold)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let (slope, t, cap, clips) = (negativeSlope, threshold, maxValue ?? .infinity, maxValue != nil)
        if slope == 0, t == 0, clips {   // ReLU6 and its kin: one select each way, no branch per element, so the loop vectorises
            for i in 0..<batch * size {
                let y = input[i] > 0 ? input[i] : 0
                output[i] = y > cap ? cap : y
            }
            return
        }
        for i in 0..<batch * size {
            let x = input[i]
            var y = x > t ? x : 0
            if clips { y = Swift.min(Swift.max(y, 0), cap) }
            output[i] = slope == 0 ? y : y - slope * Swift.max(t - x, 0)
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let (slope, t, cap) = (negativeSlope, threshold, maxValue ?? .infinity)
        let lower = maxValue == nil ? t : Swift.max(t, 0)   // a cap also clips at 0 from below
        // Selects, not branches, so the loop vectorises: 1 inside (lower, cap), plus slope below t.
        for i in 0..<batch * size {
            let x = input[i]
            let inside: Float = x > lower ? (x < cap ? 1 : 0) : 0
            inputGradient[i] = outputGradient[i] * (inside + (x < t ? slope : 0))
        }
    }
}
