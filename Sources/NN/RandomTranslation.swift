import Foundation

/// Keras 3's `RandomTranslation(height_factor, width_factor, fill_mode, interpolation, fill_value)`:
/// in training each image is shifted by `dy = uniform(lower, upper) * height` rows and
/// `dx = uniform(lower, upper) * width` columns (a factor `f` means `(-f, f)`), the output pixel
/// `(y, x)` sampling the input at `(y - dy, x - dx)` as TensorFlow's `ImageProjectiveTransformV3`
/// does for Keras: the coordinate mapped into the image by `fill_mode` (`reflect`: d c b a | a b c d,
/// `wrap`, `nearest`, or `constant`: `fill_value` outside), then read bilinearly (the four
/// neighbours `floor` and `floor + 1`, a neighbour outside the image reading `fill_value`) or at the
/// nearest pixel (`round`, half away from zero). In inference it passes through. The draws are a hash of
/// the phase seed, the epoch, the layer's position and the sample's global id, as `RandomFlip`'s.
/// Backward is the forward's transpose (each output's weights scattered back onto the pixels it read).
public final class RandomTranslation: Layer, ModeDependentLayer, AugmentationLayer {
    public enum FillMode: String, CaseIterable, Sendable { case reflect, wrap, constant, nearest }
    public enum Interpolation: String, CaseIterable, Sendable { case bilinear, nearest }

    public let heightRange: (lower: Float, upper: Float), widthRange: (lower: Float, upper: Float)
    public let fillMode: FillMode, interpolation: Interpolation, fillValue: Float
    public var kind: String { "random_translation" }
    private var (height, width, channels) = (0, 0, 0)
    private var pass: TrainingPass?
    private var layerIndex = 0
    private var shifts: [(dy: Float, dx: Float)] = []   // per row of the last training forward, for backward

    public init(height: (lower: Float, upper: Float), width: (lower: Float, upper: Float), fillMode: FillMode = .reflect,
                interpolation: Interpolation = .bilinear, fillValue: Float = 0) {
        (heightRange, widthRange, self.fillMode, self.interpolation, self.fillValue) = (height, width, fillMode, interpolation, fillValue)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw ModelError("RandomTranslation needs images [height, width, channels], got \(inputShape)") }
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
        return inputShape
    }

    public func begin(_ pass: TrainingPass?, layer index: Int) { (self.pass, layerIndex) = (pass, index) }

    /// The shift `(dy, dx)` in pixels of the sample `id` in `epoch` by the layer at `index` under `seed`.
    public func draws(seed: UInt64, epoch: Int, layer index: Int, sample id: Int) -> (dy: Float, dx: Float) {
        var key = SeededGenerator.mix(seed ^ 0x7A4E_51A7_10A0_0002)
        for part in [UInt64(epoch), UInt64(index), UInt64(id)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        let uniform = { (salt: UInt64) in Float(SeededGenerator.mix(key ^ salt) >> 40) / Float(1 << 24) }   // [0, 1)
        let dy = (heightRange.lower + (heightRange.upper - heightRange.lower) * uniform(1)) * Float(height)
        let dx = (widthRange.lower + (widthRange.upper - widthRange.lower) * uniform(2)) * Float(width)
        return (dy, dx)
    }

    /// A coordinate `x` mapped into `0...length - 1` by the fill mode, as TensorFlow's `MapCoordinate`.
    static func map(_ x: Float, length: Int, _ mode: FillMode) -> Float {
        let len = Float(length)
        var x = x
        switch mode {
        case .constant: return x
        case .nearest: return min(max(x, 0), len - 1)
        case .reflect:
            if x < 0 {
                if length <= 1 { x = 0 } else {
                    let twice = 2 * len
                    x = twice * Float(Int(-x / twice)) + x
                    x = x < -len ? x + twice : -x - 1
                }
            } else if x > len - 1 {
                if length <= 1 { x = 0 } else {
                    let twice = 2 * len
                    x -= twice * Float(Int(x / twice))
                    if x >= len { x = twice - x - 1 }
                }
            }
        case .wrap:
            if x < 0 {
                if length <= 1 { x = 0 } else { x += len * Float(Int(-x / (len - 1)) + 1) }
            } else if x > len - 1 {
                if length <= 1 { x = 0 } else { x -= len * Float(Int(x / (len - 1))) }
            }
        }
        return min(max(x, 0), len - 1)
    }

    /// Visits the input pixels output pixel `(y, x)` reads after a shift of `(dy, dx)`: `visit(index, weight)`
    /// for each neighbour inside the image (`index` its pixel, `y * width + x`), `weight` its interpolation weight;
    /// returns the weight of the neighbours outside it (which read `fill_value`).
    @inline(__always)
    private func sample(y: Int, x: Int, dy: Float, dx: Float, _ visit: (Int, Float) -> Void) -> Float {
        let sourceX = RandomTranslation.map(Float(x) - dx, length: width, fillMode)
        let sourceY = RandomTranslation.map(Float(y) - dy, length: height, fillMode)
        var outside: Float = 0
        func read(_ row: Float, _ column: Float, _ weight: Float) {
            if row >= 0, row < Float(height), column >= 0, column < Float(width) {
                visit(Int(row) * width + Int(column), weight)
            } else {
                outside += weight
            }
        }
        switch interpolation {
        case .nearest:
            read(sourceY.rounded(.toNearestOrAwayFromZero), sourceX.rounded(.toNearestOrAwayFromZero), 1)
        case .bilinear:
            let (y0, x0) = (sourceY.rounded(.down), sourceX.rounded(.down))
            let (y1, x1) = (y0 + 1, x0 + 1)
            // TensorFlow's order: each row's two reads by (x1 - x, x - x0), then the rows by (y1 - y, y - y0).
            read(y0, x0, (y1 - sourceY) * (x1 - sourceX)); read(y0, x1, (y1 - sourceY) * (sourceX - x0))
            read(y1, x0, (sourceY - y0) * (x1 - sourceX)); read(y1, x1, (sourceY - y0) * (sourceX - x0))
        }
        return outside
    }

    /// One image `[H, W, C]` shifted by `(dy, dx)`, TensorFlow's arithmetic in its order.
    public func translate(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, dy: Float, dx: Float) {
        for y in 0..<height {
            for x in 0..<width {
                let out = output + (y * width + x) * channels
                let sourceX = Self.map(Float(x) - dx, length: width, fillMode), sourceY = Self.map(Float(y) - dy, length: height, fillMode)
                let pixel = { (row: Float, column: Float, c: Int) -> Float in
                    row >= 0 && row < Float(self.height) && column >= 0 && column < Float(self.width)
                        ? input[(Int(row) * self.width + Int(column)) * self.channels + c] : self.fillValue
                }
                for c in 0..<channels {
                    switch interpolation {
                    case .nearest:
                        out[c] = pixel(sourceY.rounded(.toNearestOrAwayFromZero), sourceX.rounded(.toNearestOrAwayFromZero), c)
                    case .bilinear:
                        let (y0, x0) = (sourceY.rounded(.down), sourceX.rounded(.down))
                        let (y1, x1) = (y0 + 1, x0 + 1)
                        let top = (x1 - sourceX) * pixel(y0, x0, c) + (sourceX - x0) * pixel(y0, x1, c)
                        let bottom = (x1 - sourceX) * pixel(y1, x0, c) + (sourceX - x0) * pixel(y1, x1, c)
                        out[c] = (y1 - sourceY) * top + (sourceY - y0) * bottom
                    }
                }
            }
        }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let size = height * width * channels
        guard let pass else { output.update(from: input, count: batch * size); return }
        precondition(pass.sampleIDs.count == batch, "a training pass names \(pass.sampleIDs.count) samples for a batch of \(batch)")
        if shifts.count < batch { shifts = Array(repeating: (0, 0), count: batch) }
        for (row, id) in pass.sampleIDs.enumerated() {
            shifts[row] = draws(seed: pass.seed, epoch: pass.epoch, layer: layerIndex, sample: id)
            translate(input + row * size, to: output + row * size, dy: shifts[row].dy, dx: shifts[row].dx)
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        guard let inputGradient else { return }
        let size = height * width * channels
        guard pass != nil else { inputGradient.update(from: outputGradient, count: batch * size); return }
        inputGradient.update(repeating: 0, count: batch * size)
        for row in 0..<batch {
            let (g, d) = (outputGradient + row * size, inputGradient + row * size)
            for y in 0..<height {
                for x in 0..<width {
                    let upstream = g + (y * width + x) * channels
                    _ = sample(y: y, x: x, dy: shifts[row].dy, dx: shifts[row].dx) { pixel, weight in
                        for c in 0..<channels { d[pixel * channels + c] += weight * upstream[c] }
                    }
                }
            }
        }
    }
}

extension RandomTranslation: KerasLayer {
    public static let kerasClassName = "RandomTranslation"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // draws come from the run's seed (see above)
        try config.requireDefault("data_format", .string("channels_last"))
        let layer = RandomTranslation(height: try factor(config, "height_factor"), width: try factor(config, "width_factor"),
                                      fillMode: FillMode(rawValue: try config.choice("fill_mode", default: "reflect",
                                                                                     allowed: FillMode.allCases.map(\.rawValue)))!,
                                      interpolation: Interpolation(rawValue: try config.choice("interpolation", default: "bilinear",
                                                                                              allowed: Interpolation.allCases.map(\.rawValue)))!,
                                      fillValue: try config.float("fill_value", default: 0, range: -1e30...1e30))
        return BuiltLayer([layer])
    }

    /// Keras's factor: a number f in [-1, 1] for (-|f|, |f|), or two such numbers [lower, upper] (sorted).
    static func factor(_ config: LayerConfig, _ key: String) throws -> (lower: Float, upper: Float) {
        switch config[key] {
        case .number(let f)? where abs(f) <= 1: return (-Float(abs(f)), Float(abs(f)))
        case .array(let pair)? where pair.count == 2:
            if case .number(let a) = pair[0], case .number(let b) = pair[1], abs(a) <= 1, abs(b) <= 1 {
                return (Float(min(a, b)), Float(max(a, b)))
            }
        default: break
        }
        throw config.error("option \(key) is \(config[key]?.text ?? "missing"); expected a number in [-1, 1] or two of them")
    }
}
