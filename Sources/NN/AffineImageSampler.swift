/// The image sampling of Keras's `RandomTranslation` and `RandomZoom`, as TensorFlow's
/// `ImageProjectiveTransformV3` computes it for them: output pixel `(y, x)` reads the input at
/// `(scaleY * y + offsetY, scaleX * x + offsetX)`, that coordinate mapped into the image by `fillMode`
/// (`reflect`: d c b a | a b c d, `wrap`, `nearest`, or `constant`: `fillValue` outside), then read
/// bilinearly (the neighbours `floor` and `floor + 1`; one outside the image reads `fillValue`) or at
/// the nearest pixel (`round`, half away from zero). Float32 throughout, in TensorFlow's order.
public struct AffineImageSampler: Sendable {
    public enum FillMode: String, CaseIterable, Sendable { case reflect, wrap, constant, nearest }
    public enum Interpolation: String, CaseIterable, Sendable { case bilinear, nearest }

    /// The map from output to input coordinates, per axis: `input = scale * output + offset`.
    public struct Map: Sendable {
        public var scaleY: Float, offsetY: Float, scaleX: Float, offsetX: Float
        public init(scaleY: Float = 1, offsetY: Float, scaleX: Float = 1, offsetX: Float) {
            (self.scaleY, self.offsetY, self.scaleX, self.offsetX) = (scaleY, offsetY, scaleX, offsetX)
        }
    }

    public let fillMode: FillMode, interpolation: Interpolation, fillValue: Float
    public var (height, width, channels) = (0, 0, 0)

    public init(fillMode: FillMode, interpolation: Interpolation, fillValue: Float) {
        (self.fillMode, self.interpolation, self.fillValue) = (fillMode, interpolation, fillValue)
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

    /// The source coordinates of output pixel `(y, x)` under `m`, mapped by the fill mode.
    @inline(__always)
    private func source(y: Int, x: Int, _ m: Map) -> (y: Float, x: Float) {
        (Self.map(m.scaleY * Float(y) + m.offsetY, length: height, fillMode), Self.map(m.scaleX * Float(x) + m.offsetX, length: width, fillMode))
    }

    @inline(__always)
    private func inside(_ row: Float, _ column: Float) -> Bool { row >= 0 && row < Float(height) && column >= 0 && column < Float(width) }

    /// One image `[H, W, C]` resampled under `m`.
    public func sample(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, _ m: Map) {
        for y in 0..<height {
            for x in 0..<width {
                let out = output + (y * width + x) * channels
                let (sourceY, sourceX) = source(y: y, x: x, m)
                let pixel = { (row: Float, column: Float, c: Int) -> Float in
                    self.inside(row, column) ? input[(Int(row) * self.width + Int(column)) * self.channels + c] : self.fillValue
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

    /// The transpose of `sample`: each output's upstream gradient scattered onto the pixels it read, by
    /// their interpolation weights (a neighbour outside the image, read as `fillValue`, takes none).
    /// Accumulates into `inputGradient`.
    public func transpose(_ outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>, _ m: Map) {
        func scatter(_ row: Float, _ column: Float, _ weight: Float, _ upstream: UnsafePointer<Float>) {
            guard inside(row, column) else { return }
            let d = inputGradient + (Int(row) * width + Int(column)) * channels
            for c in 0..<channels { d[c] += weight * upstream[c] }
        }
        for y in 0..<height {
            for x in 0..<width {
                let upstream = outputGradient + (y * width + x) * channels
                let (sourceY, sourceX) = source(y: y, x: x, m)
                switch interpolation {
                case .nearest:
                    scatter(sourceY.rounded(.toNearestOrAwayFromZero), sourceX.rounded(.toNearestOrAwayFromZero), 1, upstream)
                case .bilinear:
                    let (y0, x0) = (sourceY.rounded(.down), sourceX.rounded(.down))
                    let (y1, x1) = (y0 + 1, x0 + 1)
                    scatter(y0, x0, (y1 - sourceY) * (x1 - sourceX), upstream); scatter(y0, x1, (y1 - sourceY) * (sourceX - x0), upstream)
                    scatter(y1, x0, (sourceY - y0) * (x1 - sourceX), upstream); scatter(y1, x1, (sourceY - y0) * (sourceX - x0), upstream)
                }
            }
        }
    }
}

/// What `RandomTranslation` and `RandomZoom` share: the sampler, the training pass, each row's map of
/// the last training forward (for backward), and the forward and backward over a batch; the layer
/// gives each sample's map from its keyed draw.
final class AffineAugmentation {
    var sampler: AffineImageSampler
    private(set) var pass: TrainingPass?
    private(set) var layerIndex = 0
    private var maps: [AffineImageSampler.Map] = []   // per row of the last training forward

    init(_ sampler: AffineImageSampler) { self.sampler = sampler }

    var imageSize: Int { sampler.height * sampler.width * sampler.channels }

    func build(inputShape: [Int], layer: String) throws -> [Int] {
        guard inputShape.count == 3 else { throw ModelError("\(layer) needs images [height, width, channels], got \(inputShape)") }
        (sampler.height, sampler.width, sampler.channels) = (inputShape[0], inputShape[1], inputShape[2])
        return inputShape
    }

    func begin(_ pass: TrainingPass?, layer index: Int) { (self.pass, layerIndex) = (pass, index) }

    /// In training each row resampled under `map(seed, epoch, layer, sample id)`; in inference a copy.
    func forward(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, batch: Int,
                 map: (_ seed: UInt64, _ epoch: Int, _ layer: Int, _ id: Int) -> AffineImageSampler.Map) {
        let size = imageSize
        guard let pass else { output.update(from: input, count: batch * size); return }
        precondition(pass.sampleIDs.count == batch, "a training pass names \(pass.sampleIDs.count) samples for a batch of \(batch)")
        if maps.count < batch { maps = Array(repeating: .init(offsetY: 0, offsetX: 0), count: batch) }
        for (row, id) in pass.sampleIDs.enumerated() {
            maps[row] = map(pass.seed, pass.epoch, layerIndex, id)
            sampler.sample(input + row * size, to: output + row * size, maps[row])
        }
    }

    /// The transpose of the last forward (a copy in inference).
    func backward(_ outputGradient: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>?, batch: Int) {
        guard let inputGradient else { return }
        let size = imageSize
        guard pass != nil else { inputGradient.update(from: outputGradient, count: batch * size); return }
        inputGradient.update(repeating: 0, count: batch * size)
        for row in 0..<batch { sampler.transpose(outputGradient + row * size, into: inputGradient + row * size, maps[row]) }
    }
}
