/// Keras 3's `RandomCrop(height, width)`: `[H, W, C]` images in, `[height, width, C]` out.
/// - Training, the image larger than the target on both axes: a `height x width` window at a random
///   offset, `top` in `0...H - height` and `left` in `0...W - width`. Keras draws one offset per batch;
///   here each sample draws its own, keyed on the phase seed, the epoch, the layer's position and the
///   sample's global id as `RandomFlip`'s (so 1 and N ranks, and a resumed epoch, crop alike).
/// - Training otherwise (Keras 3.15, no draw): at the offsets of the centred window below, a window of the
///   target's size clipped by the image, resized bilinearly to the target (a copy if nothing was clipped).
/// - Inference: Keras's `smart_resize`, the largest centred window with the target's aspect ratio,
///   resized bilinearly, as Keras documents. (Keras 3.15's layer passes the input through in inference,
///   keras-team/keras#21868, a shape that the layers after it were not built for.)
/// The resize is TensorFlow's bilinear one with half-pixel centres, in float32 in its order. Backward
/// is the forward's transpose: a crop's gradient goes to the cropped pixels, a resize's by its weights.
public final class RandomCrop: Layer, ModeDependentLayer, AugmentationLayer {
    /// `rows x columns` pixels of the input from `(top, left)`: what one output image is resized from.
    public struct Window: Equatable, Sendable {
        public var top: Int, left: Int, rows: Int, columns: Int
        public init(top: Int, left: Int, rows: Int, columns: Int) { (self.top, self.left, self.rows, self.columns) = (top, left, rows, columns) }
    }

    public let height: Int, width: Int   // of the output
    public var kind: String { "random_crop" }
    private var (inputHeight, inputWidth, channels) = (0, 0, 0)
    private var pass: TrainingPass?
    private var layerIndex = 0
    private var windows: [Window] = []   // per row of the last forward, for backward

    public init(height: Int, width: Int) { (self.height, self.width) = (height, width) }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw ModelError("RandomCrop needs images [height, width, channels], got \(inputShape)") }
        (inputHeight, inputWidth, channels) = (inputShape[0], inputShape[1], inputShape[2])
        return [height, width, channels]
    }

    public func begin(_ pass: TrainingPass?, layer index: Int) { (self.pass, layerIndex) = (pass, index) }

    /// Whether training crops at a random offset: Keras's `input_height > height and input_width > width`.
    public var cropsAtRandom: Bool { inputHeight > height && inputWidth > width }

    /// Keras's largest centred window with the target's aspect ratio (float64 and truncation, as Keras).
    public var centredWindow: Window {
        let rows = max(min(inputHeight, Int(Double(inputWidth * height) / Double(width))), 1)
        let columns = max(min(inputWidth, Int(Double(inputHeight * width) / Double(height))), 1)
        return Window(top: (inputHeight - rows) / 2, left: (inputWidth - columns) / 2, rows: rows, columns: columns)
    }

    /// Keras 3.15's training window without a draw: the centred window's offsets, the target's size clipped by the image.
    public var fixedTrainingWindow: Window {
        let centred = centredWindow
        return Window(top: centred.top, left: centred.left, rows: min(height, inputHeight - centred.top),
                      columns: min(width, inputWidth - centred.left))
    }

    /// The random crop of the sample `id` in `epoch` by the layer at `index` under `seed` (needs `cropsAtRandom`).
    public func draws(seed: UInt64, epoch: Int, layer index: Int, sample id: Int) -> Window {
        var key = SeededGenerator.mix(seed ^ 0x3C70_9C20_B1D5_0004)
        for part in [UInt64(epoch), UInt64(index), UInt64(id)] { key = SeededGenerator.mix(key ^ SeededGenerator.mix(part)) }
        let below = { (salt: UInt64, count: Int) in Int(((SeededGenerator.mix(key ^ salt) >> 32) * UInt64(count)) >> 32) }   // 0..<count
        return Window(top: below(1, inputHeight - height + 1), left: below(2, inputWidth - width + 1), rows: height, columns: width)
    }

    /// TensorFlow's half-pixel source of output index `i`: the two neighbours and the weight of the upper one.
    @inline(__always)
    private static func source(_ i: Int, scale: Float, size: Int) -> (lower: Int, upper: Int, lerp: Float) {
        let at = (Float(i) + 0.5) * scale - 0.5, down = at.rounded(.down)
        return (max(Int(down), 0), min(Int(at.rounded(.up)), size - 1), at - down)
    }

    /// One image `[H, W, C]` -> `[height, width, C]`: `window` copied, or resized when its size is not the target's.
    public func crop(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, _ window: Window) {
        func pixel(_ y: Int, _ x: Int) -> UnsafePointer<Float> { input + ((window.top + y) * inputWidth + window.left + x) * channels }
        if window.rows == height, window.columns == width {
            for y in 0..<height { (output + y * width * channels).update(from: pixel(y, 0), count: width * channels) }
            return
        }
        let (scaleY, scaleX) = (Float(window.rows) / Float(height), Float(window.columns) / Float(width))
        for y in 0..<height {
            let sy = Self.source(y, scale: scaleY, size: window.rows)
            for x in 0..<width {
                let sx = Self.source(x, scale: scaleX, size: window.columns)
                let (tl, tr, bl, br) = (pixel(sy.lower, sx.lower), pixel(sy.lower, sx.upper), pixel(sy.upper, sx.lower), pixel(sy.upper, sx.upper))
                let out = output + (y * width + x) * channels
                for c in 0..<channels {
                    let top = tl[c] + (tr[c] - tl[c]) * sx.lerp, bottom = bl[c] + (br[c] - bl[c]) * sx.lerp
                    out[c] = top + (bottom - top) * sy.lerp
                }
            }
        }
    }

    /// The transpose of `crop`: each output's gradient added onto the pixels it read, by their weights.
    public func transpose(_ outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>, _ window: Window) {
        func add(_ y: Int, _ x: Int, _ weight: Float, _ upstream: UnsafePointer<Float>) {
            let d = inputGradient + ((window.top + y) * inputWidth + window.left + x) * channels
            for c in 0..<channels { d[c] += weight * upstream[c] }
        }
        if window.rows == height, window.columns == width {
            for y in 0..<height { for x in 0..<width { add(y, x, 1, outputGradient + (y * width + x) * channels) } }
            return
        }
        let (scaleY, scaleX) = (Float(window.rows) / Float(height), Float(window.columns) / Float(width))
        for y in 0..<height {
            let sy = Self.source(y, scale: scaleY, size: window.rows)
            for x in 0..<width {
                let sx = Self.source(x, scale: scaleX, size: window.columns)
                let upstream = outputGradient + (y * width + x) * channels
                add(sy.lower, sx.lower, (1 - sy.lerp) * (1 - sx.lerp), upstream); add(sy.lower, sx.upper, (1 - sy.lerp) * sx.lerp, upstream)
                add(sy.upper, sx.lower, sy.lerp * (1 - sx.lerp), upstream); add(sy.upper, sx.upper, sy.lerp * sx.lerp, upstream)
            }
        }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let (inSize, outSize) = (inputHeight * inputWidth * channels, height * width * channels)
        if windows.count < batch { windows = Array(repeating: centredWindow, count: batch) }
        if let pass { precondition(pass.sampleIDs.count == batch, "a training pass names \(pass.sampleIDs.count) samples for a batch of \(batch)") }
        for row in 0..<batch {
            switch pass {
            case nil: windows[row] = centredWindow
            case let pass? where cropsAtRandom:
                windows[row] = draws(seed: pass.seed, epoch: pass.epoch, layer: layerIndex, sample: pass.sampleIDs[pass.sampleIDs.startIndex + row])
            default: windows[row] = fixedTrainingWindow
            }
            crop(input + row * inSize, to: output + row * outSize, windows[row])
        }
    }

    public func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
        guard let inputGradient else { return }
        let (inSize, outSize) = (inputHeight * inputWidth * channels, height * width * channels)
        inputGradient.update(repeating: 0, count: batch * inSize)
        for row in 0..<batch { transpose(outputGradient + row * outSize, into: inputGradient + row * inSize, windows[row]) }
    }
}

extension RandomCrop: KerasLayer {
    public static let kerasClassName = "RandomCrop"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        config.ignore("seed")   // draws come from the run's seed (see above)
        try config.requireDefault("data_format", .string("channels_last"))
        return BuiltLayer([RandomCrop(height: try config.int("height", range: 1...(1 << 16)), width: try config.int("width", range: 1...(1 << 16)))])
    }
}
