/// Keras's `DepthwiseConv2D`: each input channel convolved with its own `depth_multiplier` filters,
/// `[H, W, C] -> [OH, OW, C * dm]`, output channel `c * dm + m` (TensorFlow's order), with Keras's
/// weight names and shapes: `kernel` `[kh, kw, C, dm]` (its config calls the initializer
/// `depthwise_initializer`) and `bias` `[C * dm]`. Padding and output size as Conv2D (TensorFlow's rule).
///
/// Not a GEMM: a direct loop per output pixel and kernel tap whose innermost loop runs over the
/// `C * dm` contiguous channels of the kernel row and the output (NHWC), which the compiler
/// vectorises; the backward pass walks the same windows once for the input, kernel and bias gradients.
public final class DepthwiseConv2D: Layer, PlannedLayer {
    public let kernelSize: (Int, Int), strides: (Int, Int), padding: Padding
    public let depthMultiplier: Int, useBias: Bool
    public let kernelInitializer: Initializer, biasInitializer: Initializer
    public var kind: String { "depthwise_conv2d" }

    private var geometry: WindowGeometry!
    private var kernel: UnsafeMutablePointer<Float>!, bias: UnsafeMutablePointer<Float>?
    private var kernelGradient: UnsafeMutablePointer<Float>!, biasGradient: UnsafeMutablePointer<Float>?

    public init(kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid, depthMultiplier: Int = 1,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros) {
        (self.kernelSize, self.strides, self.padding) = (kernelSize, strides, padding)
        (self.depthMultiplier, self.useBias) = (depthMultiplier, useBias)
        (self.kernelInitializer, self.biasInitializer) = (kernelInitializer, biasInitializer)
    }

    /// Output channels: `C * dm`.
    private var width: Int { geometry.channels * depthMultiplier }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard depthMultiplier > 0 else { throw ModelError("depth_multiplier must be positive, got \(depthMultiplier)") }
        geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, padding: padding)
        return [geometry.outputHeight, geometry.outputWidth, width]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("kernel", [kernelSize.0, kernelSize.1, geometry.channels, depthMultiplier])] + (useBias ? [("bias", [width])] : [])
    }

    public func initializer(for parameter: String) -> Initializer { parameter == "kernel" ? kernelInitializer : biasInitializer }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (kernel, bias) = (parameters[0], useBias ? parameters[1] : nil)
        (kernelGradient, biasGradient) = (gradients[0], useBias ? gradients[1] : nil)
    }

    // PlannedLayer: no matrix products to plan, no workspace; its multiply-adds count as FLOPs.
    public func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)] { [] }
    public func prepare(batch: Int) {}
    public var workspacePerSample: Int { 0 }
    public var forwardFLOPsPerSample: Int { 2 * geometry.outputPixels * width * kernelSize.0 * kernelSize.1 }

    /// Calls `body(outputPixel, inputPixel, tap)` for every kernel tap of every output pixel of one
    /// image that falls inside it (padding cells are skipped: they are zeros), with flat pixel indices.
    @inline(__always)
    private func forEachTap(_ body: (_ output: Int, _ input: Int, _ tap: Int) -> Void) {
        let g = geometry!
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                let top = oh * g.strideHeight - g.padTop, left = ow * g.strideWidth - g.padLeft
                for ih in g.rows(of: oh) {
                    for iw in g.columns(of: ow) {
                        body(oh * g.outputWidth + ow, ih * g.width + iw, (ih - top) * g.kernelWidth + (iw - left))
                    }
                }
            }
        }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let (c, dm, w) = (geometry.channels, depthMultiplier, width)
        let (inputSize, outputSize) = (geometry.inputSize, geometry.outputPixels * w)
        for n in 0..<batch {
            let (x, y) = (input + n * inputSize, output + n * outputSize)
            for pixel in 0..<geometry.outputPixels {
                if let bias { (y + pixel * w).update(from: bias, count: w) } else { (y + pixel * w).update(repeating: 0, count: w) }
            }
            forEachTap { out, into, tap in
                let (source, target, weights) = (x + into * c, y + out * w, UnsafePointer(kernel) + tap * w)
                if dm == 1 {
                    for j in 0..<w { target[j] += source[j] * weights[j] }
                } else {
                    for j in 0..<w { target[j] += source[j / dm] * weights[j] }
                }
            }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        let (c, dm, w) = (geometry.channels, depthMultiplier, width)
        let (inputSize, outputSize) = (geometry.inputSize, geometry.outputPixels * w)
        inputGradient?.update(repeating: 0, count: batch * inputSize)
        for n in 0..<batch {
            let (x, dy) = (input + n * inputSize, outputGradient + n * outputSize)
            if let biasGradient {
                for pixel in 0..<geometry.outputPixels { for j in 0..<w { biasGradient[j] += dy[pixel * w + j] } }
            }
            let dx = inputGradient.map { $0 + n * inputSize }
            forEachTap { out, into, tap in
                let (source, gradient, dk) = (x + into * c, dy + out * w, kernelGradient + tap * w)
                let weights = UnsafePointer(kernel) + tap * w
                if dm == 1 {
                    for j in 0..<w { dk[j] += source[j] * gradient[j] }
                    if let dx { let target = dx + into * c; for j in 0..<w { target[j] += gradient[j] * weights[j] } }
                } else {
                    for j in 0..<w { dk[j] += source[j / dm] * gradient[j] }
                    if let dx { let target = dx + into * c; for j in 0..<w { target[j / dm] += gradient[j] * weights[j] } }
                }
            }
        }
    }
}

extension DepthwiseConv2D: StreamingLayer {
    /// Forward reads the input and the kernel and writes the output; backward reads the output
    /// gradient, the input and the kernel and writes the input and kernel gradients (4 bytes a value).
    public func bytesMoved(batch: Int) -> (forward: Int, backward: Int) {
        let (input, output, kernel) = (batch * geometry.inputSize, batch * geometry.outputPixels * width, kernelSize.0 * kernelSize.1 * width)
        return (4 * (input + kernel + output), 4 * (output + 2 * input + 2 * kernel))
    }
}

extension DepthwiseConv2D: KerasLayer {
    public static let kerasClassName = "DepthwiseConv2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        try config.requireDefault("dilation_rate", .number(1), .array([.number(1), .number(1)]))
        for key in ["depthwise_regularizer", "depthwise_constraint"] { try config.requireDefault(key) }
        let layer = DepthwiseConv2D(
            kernelSize: try config.pair("kernel_size"), strides: try config.pair("strides", default: (1, 1)),
            padding: try config.padding(), depthMultiplier: try config.int("depth_multiplier", default: 1, range: 1...4096),
            useBias: try config.bool("use_bias", default: true),
            kernelInitializer: try .named(in: config, "depthwise_initializer", default: .glorotUniform),
            biasInitializer: try .named(in: config, "bias_initializer", default: .zeros))
        var built = try activationLayers(config)
        built.layers.insert(layer, at: 0)
        return built
    }
}
