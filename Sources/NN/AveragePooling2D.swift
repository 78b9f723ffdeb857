/// Average pooling as Keras's `AveragePooling2D`: `[N, H, W, C]` -> `[N, OH, OW, C]`. With SAME
/// padding, a window at the border averages only the cells inside the image (TensorFlow's rule:
/// padding is not counted). Backward spreads each output's gradient evenly over its window.
public final class AveragePooling2D: Layer {
    public let poolSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public var kind: String { "average_pooling2d" }

    private var geometry: WindowGeometry!

    /// `strides` defaults to `poolSize`, as in Keras.
    public init(poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        geometry = try WindowGeometry(inputShape: inputShape, kernel: poolSize, strides: strides, padding: padding)
        return [geometry.outputHeight, geometry.outputWidth, geometry.channels]
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let g = geometry!, c = g.channels
        var out = output
        for n in 0..<batch {
            let image = input + n * g.inputSize
            for oh in 0..<g.outputHeight {
                let rows = g.rows(of: oh)
                for ow in 0..<g.outputWidth {
                    let columns = g.columns(of: ow)
                    out.update(repeating: 0, count: c)
                    for h in rows {
                        for w in columns {
                            let cell = image + (h * g.width + w) * c
                            for ch in 0..<c { out[ch] += cell[ch] }
                        }
                    }
                    let scale = 1 / Float(rows.count * columns.count)
                    for ch in 0..<c { out[ch] *= scale }
                    out += c
                }
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let g = geometry!, c = g.channels
        inputGradient.update(repeating: 0, count: batch * g.inputSize)
        var gradient = outputGradient
        for n in 0..<batch {
            let image = inputGradient + n * g.inputSize
            for oh in 0..<g.outputHeight {
                let rows = g.rows(of: oh)
                for ow in 0..<g.outputWidth {
                    let columns = g.columns(of: ow)
                    let scale = 1 / Float(rows.count * columns.count)
                    for h in rows {
                        for w in columns {
                            let cell = image + (h * g.width + w) * c
                            for ch in 0..<c { cell[ch] += gradient[ch] * scale }
                        }
                    }
                    gradient += c
                }
            }
        }
    }
}

extension AveragePooling2D: KerasLayer {
    public static let kerasClassName = "AveragePooling2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let window = try config.poolingWindow()
        return BuiltLayer([AveragePooling2D(poolSize: window.pool, strides: window.strides, padding: window.padding)])
    }
}
