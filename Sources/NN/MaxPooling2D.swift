/// Max pooling as Keras's `MaxPooling2D`: `[N, H, W, C]` -> `[N, OH, OW, C]`.
/// SAME padding pads with -infinity, so a padded cell never wins; ties go to the first
/// cell in row-major window order. Forward remembers the winner of each output for backward.
public final class MaxPooling2D: Layer {
    public let poolSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public var kind: String { "max_pooling2d" }

    private var geometry: WindowGeometry!
    private var winners = IndexBuffer(count: 0)   // [maxBatch, OH, OW, C]: input offset within the sample

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

    public func reserve(maxBatch: Int) {
        let size = maxBatch * geometry.outputPixels * geometry.channels
        if winners.count < size { winners = IndexBuffer(count: size) }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let g = geometry!, c = g.channels
        let laneOffsets = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        var out = output, winner = winners.pointer
        for n in 0..<batch {
            let image = input + n * g.inputSize
            for oh in 0..<g.outputHeight {
                let rows = g.rows(of: oh)
                for ow in 0..<g.outputWidth {
                    let columns = g.columns(of: ow)
                    // Every window holds at least one real cell, so the first one seeds the maximum.
                    let first = (rows.lowerBound * g.width + columns.lowerBound) * c
                    // Sixteen channels at a time: the same strict > in the same window order.
                    var c0 = 0
                    while c0 + 16 <= c {
                        var best = load16(image + first + c0)
                        var index = SIMD16<Int32>(repeating: Int32(first + c0)) &+ laneOffsets
                        for h in rows {
                            for w in columns {
                                let offset = (h * g.width + w) * c + c0
                                let value = load16(image + offset)
                                let better = value .> best
                                best.replace(with: value, where: better)
                                index.replace(with: SIMD16<Int32>(repeating: Int32(offset)) &+ laneOffsets, where: better)
                            }
                        }
                        store16(best, out + c0)
                        UnsafeMutableRawPointer(winner + c0).storeBytes(of: index, as: SIMD16<Int32>.self)
                        c0 += 16
                    }
                    for ch in c0..<c {
                        out[ch] = image[first + ch]
                        winner[ch] = Int32(first + ch)
                    }
                    for h in rows {
                        for w in columns {
                            let offset = (h * g.width + w) * c
                            for ch in c0..<c where image[offset + ch] > out[ch] {
                                out[ch] = image[offset + ch]
                                winner[ch] = Int32(offset + ch)
                            }
                        }
                    }
                    out += c
                    winner += c
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
        let laneOffsets = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        inputGradient.update(repeating: 0, count: batch * g.inputSize)
        var gradient = outputGradient, winner = UnsafePointer(winners.pointer)
        for n in 0..<batch {
            let image = inputGradient + n * g.inputSize
            for oh in 0..<g.outputHeight {
                let rows = g.rows(of: oh)
                for ow in 0..<g.outputWidth {
                    let columns = g.columns(of: ow)
                    // Sixteen channels at a time: each cell of the window takes the gradient in the
                    // lanes it won (and +0 elsewhere), in the same order as the scalar scatter.
                    var c0 = 0
                    while c0 + 16 <= c {
                        let won = UnsafeRawPointer(winner + c0).loadUnaligned(as: SIMD16<Int32>.self)
                        let value = load16(gradient + c0)
                        for h in rows {
                            for w in columns {
                                let offset = (h * g.width + w) * c + c0
                                let mine = won .== SIMD16<Int32>(repeating: Int32(offset)) &+ laneOffsets
                                store16(load16(image + offset) + Float16x(repeating: 0).replacing(with: value, where: mine), image + offset)
                            }
                        }
                        c0 += 16
                    }
                    for ch in c0..<c { image[Int(winner[ch])] += gradient[ch] }
                    gradient += c
                    winner += c
                }
            }
        }
    }
}

extension MaxPooling2D: KerasLayer {
    public static let kerasClassName = "MaxPooling2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let window = try config.poolingWindow()
        return BuiltLayer([MaxPooling2D(poolSize: window.pool, strides: window.strides, padding: window.padding)])
    }
}
