/// Keras/TensorFlow padding modes for convolution and pooling windows.
public enum Padding: String, Sendable {
    case same, valid

    /// Output length and padding before the first element along one axis, TensorFlow's rule:
    /// SAME: `out = ceil(in / stride)`, `padTotal = max((out - 1) * stride + k - in, 0)`, `before = padTotal / 2`;
    /// VALID: `out = ceil((in - k + 1) / stride)`, no padding.
    public func window(input: Int, kernel: Int, stride: Int) -> (output: Int, padBefore: Int) {
        switch self {
        case .same:
            let output = (input + stride - 1) / stride
            let total = Swift.max((output - 1) * stride + kernel - input, 0)
            return (output, total / 2)
        case .valid:
            let span = input - kernel + 1
            return (span > 0 ? (span + stride - 1) / stride : 0, 0)
        }
    }
}

extension LayerConfig {
    /// The `padding` option: valid (Keras's default) or same.
    func padding() throws -> Padding {
        Padding(rawValue: try choice("padding", default: "valid", allowed: ["valid", "same"]))!
    }

    /// A pooling layer's window: `pool_size` (default 2 x 2), `strides` (default the pool size, as in Keras), `padding`.
    func poolingWindow() throws -> (pool: (Int, Int), strides: (Int, Int), padding: Padding) {
        let pool = try pair("pool_size", default: (2, 2))
        return (pool, try pair("strides", default: pool), try padding())
    }
}
