import CKernels

/// Keras's `DepthwiseConv2D`: each input channel convolved with its own `depth_multiplier` filters,
/// `[H, W, C] -> [OH, OW, C * dm]`, output channel `c * dm + m` (TensorFlow's order), with Keras's
/// weight names and shapes: `kernel` `[kh, kw, C, dm]` (its config calls the initializer
/// `depthwise_initializer`) and `bias` `[C * dm]`. Padding and output size as Conv2D (TensorFlow's rule).
///
/// Not a GEMM. With the oneDNN backend, oneDNN's own depthwise convolution (`OneDNNConvolutionPlan`, one per
/// planned batch size), which measures faster, but for the kernel and bias gradients of the shapes it has no
/// depthwise kernel for (those take the loop: `Self.oneDNNPasses`); otherwise, and for a shape oneDNN
/// refuses, a direct loop (CKernels' depthwise.c, compiled for AVX-512, AVX2 and baseline x86-64 and chosen
/// at load time) whose accumulators run over the contiguous channels of each output pixel (NHWC); its
/// backward pass walks the same windows once for the input, kernel and bias gradients. With one filter per
/// channel and a multiple of 16 channels, the loop keeps runs of neighbouring pixels (and a 3 x 3 kernel's
/// gradient sums) in registers on AVX-512 or AVX2 (`DepthwiseLoop`), adding in the same order: the same bits,
/// 1.6-5x as fast alone on AVX-512 and 1.1-2.5x on AVX2 (both measured on an AMD EPYC Zen 4).
public final class DepthwiseConv2D: Layer, PlannedLayer {
    public let kernelSize: (Int, Int), strides: (Int, Int), padding: Padding
    public let depthMultiplier: Int, useBias: Bool
    public let kernelInitializer: Initializer, biasInitializer: Initializer
    public var kind: String { "depthwise_conv2d" }

    private(set) var geometry: WindowGeometry!   // read by OneDNNDepthwiseConvolution
    private var window = distill_window()
    private var kernel: UnsafeMutablePointer<Float>!, bias: UnsafeMutablePointer<Float>?
    private var kernelGradient: UnsafeMutablePointer<Float>!, biasGradient: UnsafeMutablePointer<Float>?
    /// Whether to run through oneDNN (the model's backend is oneDNN), and its plan per batch size.
    let usesOneDNN: Bool
    private var plans: [Int: OneDNNConvolutionPlan] = [:]
    /// The batch sizes that run through oneDNN (planned, and not refused).
    public var oneDNNBatchSizes: [Int] { plans.keys.sorted() }
    /// Of those, the ones whose kernel and bias gradients oneDNN computes too (the others take the loop).
    public var oneDNNKernelGradientBatchSizes: [Int] { plans.filter { $0.value.passes.kernelGradient }.keys.sorted() }

    public init(kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid, depthMultiplier: Int = 1,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                gemm: GEMMBackend? = nil) {
        usesOneDNN = gemm?.name == "onednn"   // the backend, or a wrapper of it (the profile's timed one)
        (self.kernelSize, self.strides, self.padding) = (kernelSize, strides, padding)
        (self.depthMultiplier, self.useBias) = (depthMultiplier, useBias)
        (self.kernelInitializer, self.biasInitializer) = (kernelInitializer, biasInitializer)
    }

    /// Output channels: `C * dm`.
    private var width: Int { geometry.channels * depthMultiplier }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard depthMultiplier > 0 else { throw ModelError("depth_multiplier must be positive, got \(depthMultiplier)") }
        geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, padding: padding)
        let g = geometry!
        guard g.inputSize <= Int(Int32.max), g.outputPixels * width <= Int(Int32.max),
              kernelSize.0 * kernelSize.1 * width <= Int(Int32.max) else {
            throw ModelError("depthwise convolution of an input of shape \(inputShape) with depth_multiplier \(depthMultiplier) "
                + "needs more than 2^31 - 1 values per image")
        }
        window = distill_window(height: Int32(g.height), width: Int32(g.width), channels: Int32(g.channels), multiplier: Int32(depthMultiplier),
                                kernel_height: Int32(g.kernelHeight), kernel_width: Int32(g.kernelWidth), stride_height: Int32(g.strideHeight),
                                stride_width: Int32(g.strideWidth), pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft),
                                output_height: Int32(g.outputHeight), output_width: Int32(g.outputWidth))
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

    // PlannedLayer: no matrix products to plan, no workspace; its multiply-adds count as FLOPs. With oneDNN,
    // each batch size's primitives are made here, before the first step (a shape oneDNN refuses keeps the loop).
    public func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)] { [] }
    public func prepare(batch: Int) {
        guard usesOneDNN, batch > 0, plans[batch] == nil else { return }
        plans[batch] = try? OneDNNConvolutionPlan(geometry, groups: geometry.channels, outputChannels: width, useBias: useBias, batch: batch,
                                                  choosing: Self.oneDNNPasses)
    }

    /// The input gradient always through oneDNN; the kernel and bias gradients only where oneDNN names its depthwise
    /// kernel for them (`jit_dw`). Elsewhere (a 5 x 5 or 7 x 7 kernel, a map of one or two pixels, a strided 1 x 1) it
    /// falls back to its generic grouped convolution (`jit`), which took 1-20x the loop's time on an AMD EPYC Zen 4
    /// (133 us against 30 us at 2 x 2 x 144, 32 samples: docs/graph-models.md), so the loop computes them.
    static func oneDNNPasses(_ descriptors: OneDNNConvolutionDescriptors) -> OneDNNConvolutionPlan.Passes {
        .init(inputGradient: true, kernelGradient: descriptors.backwardWeights.implementation.hasPrefix("jit_dw"))
    }
    public var workspacePerSample: Int { 0 }
    public var forwardFLOPsPerSample: Int { 2 * geometry.outputPixels * width * kernelSize.0 * kernelSize.1 }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        if let plan = plans[batch] { return plan.forward(input: input, kernel: kernel, bias: bias, output: output) }
        distill_depthwise_forward(input, kernel, bias, output, &window, Int32(batch))
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        if let plan = plans[batch] {
            plan.backward(input: input, kernel: kernel, outputGradient: outputGradient, inputGradient: inputGradient,
                          kernelGradient: kernelGradient, biasGradient: biasGradient)
            guard !plan.passes.kernelGradient else { return }
            // The loop without an input gradient: the kernel and bias gradients only.
            return distill_depthwise_backward(input, kernel, outputGradient, nil, kernelGradient, biasGradient, &window, Int32(batch))
        }
        distill_depthwise_backward(input, kernel, outputGradient, inputGradient, kernelGradient, biasGradient, &window, Int32(batch))
    }
}

extension DepthwiseConv2D: StreamingLayer {
    /// Forward reads the input and the kernel and writes the output; backward reads the output
    /// gradient, the input and the kernel and writes the input and kernel gradients (4 bytes a value).
    public func bytesMoved(batch: Int) -> (forward: Int, backward: Int) {
        let (input, output, kernel) = (batch * geometry.inputSize, batch * geometry.outputPixels * width, kernelSize.0 * kernelSize.1 * width)
        return (4 * (input + kernel + output), 4 * (output + 2 * input + 2 * kernel))
    }

    /// Forward: one multiply-add per output value and kernel tap inside the image (padding's taps are
    /// skipped); backward: as many for the input gradient and as many again for the kernel gradient.
    public func multiplyAdds(batch: Int) -> (forward: Int, backward: Int) {
        let g = geometry!
        // Taps inside the image, per output row (column), summed over the rows (columns): the window is a product of the two.
        func inside(_ outputs: Int, _ kernel: Int, _ stride: Int, _ pad: Int, _ size: Int) -> Int {
            (0..<outputs).reduce(0) { sum, o in sum + (0..<kernel).filter { (0..<size).contains(o * stride - pad + $0) }.count }
        }
        let taps = inside(g.outputHeight, g.kernelHeight, g.strideHeight, g.padTop, g.height)
            * inside(g.outputWidth, g.kernelWidth, g.strideWidth, g.padLeft, g.width)
        let forward = batch * taps * width
        return (forward, 2 * forward)
    }
}

extension DepthwiseConv2D: KerasLayer {
    public static let kerasClassName = "DepthwiseConv2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        try config.requireDefault("dilation_rate", .number(1), .array([.number(1), .number(1)]))
        for key in ["depthwise_regularizer", "depthwise_constraint", "bias_constraint", "bias_regularizer"] { try config.requireDefault(key) }
        let layer = DepthwiseConv2D(
            kernelSize: try config.pair("kernel_size"), strides: try config.pair("strides", default: (1, 1)),
            padding: try config.padding(), depthMultiplier: try config.int("depth_multiplier", default: 1, range: 1...4096),
            useBias: try config.bool("use_bias", default: true),
            kernelInitializer: try .named(in: config, "depthwise_initializer", default: .glorotUniform),
            biasInitializer: try .named(in: config, "bias_initializer", default: .zeros), gemm: context.gemm)
        var built = try activationLayers(config)
        built.layers.insert(layer, at: 0)
        return built
    }
}
