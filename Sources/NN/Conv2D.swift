/// 2-D convolution as Keras's `Conv2D`: kernel `[KH, KW, C, filters]` (HWIO), bias `[filters]` (unless `useBias` is false).
/// Input `[N, H, W, C]` -> output `[N, OH, OW, filters]`, with TensorFlow's SAME/VALID rule.
///
/// Forward is im2col + one GEMM; backward is one GEMM for the kernel gradient (beta = 1)
/// and one GEMM + col2im for the input gradient. With the oneDNN backend, a convolution that needs im2col
/// (not pointwise), has one group and an output map of at least `oneDNNMinimumOutputPixels` pixels runs
/// through oneDNN's own convolution instead (`OneDNNConvolutionPlan`, one per planned batch size; the
/// residual teacher's step took 0.45 of the time on an AMD EPYC Zen 4, docs/profile.md), but for the input
/// gradient of an input of fewer than `oneDNNInputGradientChannels` channels (`Self.oneDNNPasses`).
/// A pointwise convolution (1 x 1, stride 1, one group) has columns equal to its input, so its GEMMs read
/// the input and write the input gradient directly.
/// With `groups` G > 1 (Keras's grouped convolution: kernel `[KH, KW, C / G, filters]`, output
/// channels `g * F / G ..< (g + 1) * F / G` reading input channels `g * C / G ..< (g + 1) * C / G`),
/// the columns hold each group's patch as one block and every product is G GEMMs on blocks of the
/// same matrices (leading dimensions of the whole). With as many groups as input channels (ConvNeXt's
/// 7 x 7 "depthwise" Conv2D) it is a `DepthwiseConv2D` of multiplier `filters / C`, whose kernel
/// `[KH, KW, C, F / C]` has the same values in the same order as `[KH, KW, 1, F]`: the layer runs as one (a
/// loop or oneDNN's depthwise convolution, not C GEMMs of one column each: a 7 x 7 forward pass at 8 x 8 x 96,
/// 32 samples, took 39.8 ms that way and 0.3 ms this way in ConvNeXtTiny's step on an AMD EPYC Zen 4).
public final class Conv2D: PlannedLayer {
    public let filters: Int
    public let kernelSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public let useBias: Bool
    public let groups: Int
    public let kernelInitializer: Initializer, biasInitializer: Initializer
    public let gemm: GEMMBackend
    public var kind: String { "conv2d" }
    /// Whether to run through oneDNN (the backend is oneDNN, or a wrapper of it: the profile's timed one), and its plan per batch size.
    let usesOneDNN: Bool
    private var plans: [Int: OneDNNConvolutionPlan] = [:]
    /// The batch sizes that run through oneDNN's convolution (planned, and not refused).
    public var oneDNNBatchSizes: [Int] { plans.keys.sorted() }

    private var geometry: WindowGeometry!
    private var kernel: UnsafeMutablePointer<Float>!, bias: UnsafeMutablePointer<Float>?
    private var kernelGradient: UnsafeMutablePointer<Float>!, biasGradient: UnsafeMutablePointer<Float>?
    private var columns = FloatBuffer(count: 0)           // [maxBatch * OH * OW, KH * KW * C]
    private var columnGradient = FloatBuffer(count: 0)    // same shape, for the input gradient; sized on the
                                                          // first backward, so inference-only models never hold it
    /// With one group per input channel, the depthwise convolution this layer is (bound to the same parameters).
    private var depthwise: DepthwiseConv2D?

    public init(filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
                useBias: Bool = true, groups: Int = 1, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                gemm: GEMMBackend) {
        self.gemm = gemm
        usesOneDNN = gemm.name == "onednn"
        self.groups = groups
        (self.useBias, self.kernelInitializer, self.biasInitializer) = (useBias, kernelInitializer, biasInitializer)
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard filters > 0 else { throw ModelError("conv2d needs a positive number of filters, got \(filters)") }
        geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, padding: padding)
        guard groups >= 1, geometry.channels % groups == 0, filters % groups == 0 else {
            throw ModelError("conv2d groups \(groups) must divide both its \(geometry.channels) input channels and its \(filters) filters")
        }
        depthwise = nil
        if groups > 1, groups == geometry.channels {
            let layer = DepthwiseConv2D(kernelSize: kernelSize, strides: strides, padding: padding, depthMultiplier: filters / groups,
                                        useBias: useBias, gemm: gemm)
            _ = try layer.build(inputShape: inputShape)
            depthwise = layer
        }
        return [geometry.outputHeight, geometry.outputWidth, filters]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("kernel", [kernelSize.0, kernelSize.1, geometry.channels / groups, filters])] + (useBias ? [("bias", [filters])] : [])
    }

    public func initializer(for parameter: String) -> Initializer { parameter == "kernel" ? kernelInitializer : biasInitializer }

    public var forwardFLOPsPerSample: Int { 2 * geometry.outputPixels * geometry.patchSize / groups * filters }

    public var workspacePerSample: Int { isPointwise || depthwise != nil ? 0 : geometry.outputPixels * geometry.patchSize }

    /// 1 x 1, stride 1 (so no padding), one group: im2col would copy the input as it is, and col2im
    /// would copy the column gradient into a zeroed input gradient.
    private var isPointwise: Bool { kernelSize == (1, 1) && strides == (1, 1) && groups == 1 }

    /// output[rows, F] += columns [rows, KH*KW*C] * kernel [KH*KW*C, F], rows = batch * OH * OW
    /// (per group: its F / G output columns from its block of KH*KW*C / G columns).
    public func forwardGEMM(batch: Int) -> GEMMShape {
        let patch = geometry.patchSize
        return GEMMShape(m: batch * geometry.outputPixels, n: filters / groups, k: patch / groups, lda: patch, ldb: filters, ldc: filters,
                         accumulate: true)
    }

    /// dKernel[KH*KW*C, F] += columns^T [KH*KW*C, rows] * dOut [rows, F] (per group, its blocks).
    public func kernelGradientGEMM(batch: Int) -> GEMMShape {
        let patch = geometry.patchSize
        return GEMMShape(transposeA: true, m: patch / groups, n: filters / groups, k: batch * geometry.outputPixels,
                         lda: patch, ldb: filters, ldc: filters, accumulate: true)
    }

    /// dColumns[rows, KH*KW*C] = dOut [rows, F] * kernel^T [F, KH*KW*C] (per group, its blocks).
    public func inputGradientGEMM(batch: Int) -> GEMMShape {
        let patch = geometry.patchSize
        return GEMMShape(transposeB: true, m: batch * geometry.outputPixels, n: patch / groups, k: filters / groups,
                         lda: filters, ldb: filters, ldc: patch)
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (kernel, bias) = (parameters[0], useBias ? parameters[1] : nil)
        (kernelGradient, biasGradient) = (gradients[0], useBias ? gradients[1] : nil)
        depthwise?.bind(parameters: parameters, gradients: gradients)
    }

    public func reserve(maxBatch: Int) {
        let size = maxBatch * workspacePerSample
        if columns.count < size { columns = FloatBuffer(count: size) }
    }

    public func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)] {
        guard depthwise == nil else { return [] }
        return [("forward", forwardGEMM(batch: batch)), ("kernel gradient", kernelGradientGEMM(batch: batch)),
                ("input gradient", inputGradientGEMM(batch: batch))]
    }

    public func prepare(batch: Int) {
        if let depthwise { return depthwise.prepare(batch: batch) }
        for (_, shape) in gemmShapes(batch: batch) { gemm.prepare(shape) }
        guard usesOneDNN, !isPointwise, groups == 1, geometry.outputPixels >= Self.oneDNNMinimumOutputPixels, batch > 0,
              plans[batch] == nil else { return }
        plans[batch] = try? OneDNNConvolutionPlan(geometry, groups: nil, outputChannels: filters, useBias: useBias, batch: batch,
                                                  choosing: Self.oneDNNPasses)
    }

    /// On maps of fewer output pixels, oneDNN's convolution was slower than im2col + GEMM on an AMD EPYC Zen 4: in keras.applications'
    /// ResNet50V2 at 32 x 32 x 3 (32 samples, forward and backward of a 3 x 3 convolution), 6.9 against 5.0 ms on a 2 x 2 map of 256
    /// channels and 18.6 against 7.2 ms on a 1 x 1 map of 512, while 4 x 4 maps of 128 channels took 0.3 ms less and 8 x 8 of 64, 1.2 less.
    public static let oneDNNMinimumOutputPixels = 16

    /// Below this many input channels, oneDNN's input-gradient kernel (which pads them to a block of 16) was slower than a GEMM and
    /// col2im on an AMD EPYC Zen 4: 965 against 582 us at 1 channel, 962 against 1,769 at 8 (28 x 28, 3 x 3, 16 filters, 32 samples).
    public static let oneDNNInputGradientChannels = 8

    /// The kernel and bias gradients through oneDNN; the input gradient too, from `oneDNNInputGradientChannels` input channels.
    static func oneDNNPasses(_ descriptors: OneDNNConvolutionDescriptors) -> OneDNNConvolutionPlan.Passes {
        .init(inputGradient: descriptors.source.dims.1 >= oneDNNInputGradientChannels, kernelGradient: true)
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        if let depthwise { return depthwise.forward(input: input, output: output, batch: batch) }
        if let plan = plans[batch] { return plan.forward(input: input, kernel: kernel, bias: bias, output: output) }
        if groups > 1 { groupedIm2col(input, columns.pointer, geometry, groups: groups, batch: batch) } else if !isPointwise {
            im2col(input, columns.pointer, geometry, batch: batch)
        }
        let columns = isPointwise ? input : UnsafePointer(columns.pointer)
        startFromBias(bias, output, rows: batch * geometry.outputPixels, columns: filters)
        let (shape, block, width) = (forwardGEMM(batch: batch), geometry.patchSize / groups, filters / groups)
        for g in 0..<groups { gemm.multiply(shape, columns + g * block, kernel + g * width, output + g * width) }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        if let depthwise {
            return depthwise.backward(outputGradient: outputGradient, inputGradient: inputGradient, input: input, output: output, batch: batch)
        }
        if let plan = plans[batch] {
            plan.backward(input: input, kernel: kernel, outputGradient: outputGradient, inputGradient: inputGradient,
                          kernelGradient: kernelGradient, biasGradient: biasGradient)
            guard let inputGradient, !plan.passes.inputGradient else { return }
            return inputGradientByGEMM(outputGradient, inputGradient, batch: batch)
        }
        // columns still hold im2col(input) from the forward pass (a pointwise convolution's are its input).
        let columns = isPointwise ? input : UnsafePointer(columns.pointer)
        let (block, width, kernelShape) = (geometry.patchSize / groups, filters / groups, kernelGradientGEMM(batch: batch))
        for g in 0..<groups {
            gemm.multiply(kernelShape, columns + g * block, outputGradient + g * width, kernelGradient + g * width)
        }
        if let biasGradient { accumulateColumnSums(outputGradient, rows: batch * geometry.outputPixels, columns: filters, into: biasGradient) }
        guard let inputGradient else { return }
        inputGradientByGEMM(outputGradient, inputGradient, batch: batch)
    }

    /// dInput from dOut: one GEMM (per group) into the column gradient, then col2im (a pointwise convolution's GEMM writes it directly).
    private func inputGradientByGEMM(_ outputGradient: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>, batch: Int) {
        let (block, width) = (geometry.patchSize / groups, filters / groups)
        if isPointwise { return gemm.multiply(inputGradientGEMM(batch: batch), outputGradient, kernel, inputGradient) }
        if columnGradient.count < self.columns.count { columnGradient = FloatBuffer(count: self.columns.count) }
        let inputShape = inputGradientGEMM(batch: batch)
        for g in 0..<groups {
            gemm.multiply(inputShape, outputGradient + g * width, kernel + g * width, columnGradient.pointer + g * block)
        }
        if groups == 1 { col2im(columnGradient.pointer, inputGradient, geometry, batch: batch) } else {
            groupedCol2im(columnGradient.pointer, inputGradient, geometry, groups: groups, batch: batch)
        }
    }
}

extension Conv2D: KerasLayer {
    public static let kerasClassName = "Conv2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        try config.requireDefault("dilation_rate", .number(1), .array([.number(1), .number(1)]))
        let convolution = Conv2D(
            filters: try config.int("filters"), kernelSize: try config.pair("kernel_size"),
            strides: try config.pair("strides", default: (1, 1)),
            padding: try config.padding(),
            useBias: try config.bool("use_bias", default: true), groups: try config.int("groups", default: 1),
            kernelInitializer: try .named(in: config, "kernel_initializer", default: .glorotUniform),
            biasInitializer: try .named(in: config, "bias_initializer", default: .zeros), gemm: context.gemm)
        var built = try activationLayers(config)
        built.layers.insert(convolution, at: 0)
        built.constraints = try WeightConstraint.constraints(config)
        built.regularizers = try WeightRegularizer.regularizers(config)
        return built
    }
}
