/// Keras's `SeparableConv2D`: a depthwise convolution (no bias) then a 1 x 1 convolution,
/// `[H, W, C] -> [OH, OW, C * dm] -> [OH, OW, filters]`, with Keras's weight names and shapes:
/// `depthwise_kernel` `[kh, kw, C, dm]`, `pointwise_kernel` `[1, 1, C * dm, filters]` and `bias`
/// `[filters]`. The two parts are a `DepthwiseConv2D` and a `Conv2D` (its GEMMs on the backend),
/// with the depthwise output and its gradient kept between them.
public final class SeparableConv2D: Layer, PlannedLayer {
    public let depthwise: DepthwiseConv2D
    public let pointwise: Conv2D
    public let depthwiseInitializer: Initializer, pointwiseInitializer: Initializer
    public var kind: String { "separable_conv2d" }

    private var middleSize = 0                             // per sample: OH * OW * C * dm
    private var middle = FloatBuffer(count: 0)             // [maxBatch, middleSize]
    private var middleGradient = FloatBuffer(count: 0)

    public init(filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid, depthMultiplier: Int = 1,
                useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform, pointwiseInitializer: Initializer = .glorotUniform,
                biasInitializer: Initializer = .zeros, gemm: GEMMBackend) {
        depthwise = DepthwiseConv2D(kernelSize: kernelSize, strides: strides, padding: padding, depthMultiplier: depthMultiplier, useBias: false,
                                    gemm: gemm)
        pointwise = Conv2D(filters: filters, kernelSize: (1, 1), useBias: useBias, biasInitializer: biasInitializer, gemm: gemm)
        (self.depthwiseInitializer, self.pointwiseInitializer) = (depthwiseInitializer, pointwiseInitializer)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        let middleShape = try depthwise.build(inputShape: inputShape)
        try LayerGraph.checkSize(middleShape, "its depthwise output")
        middleSize = elementCount(middleShape)
        return try pointwise.build(inputShape: middleShape)
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("depthwise_kernel", depthwise.parameterShapes[0].shape)]
            + pointwise.parameterShapes.map { ($0.name == "kernel" ? "pointwise_kernel" : $0.name, $0.shape) }
    }

    public func initializer(for parameter: String) -> Initializer {
        switch parameter {
        case "depthwise_kernel": return depthwiseInitializer
        case "pointwise_kernel": return pointwiseInitializer
        default: return pointwise.initializer(for: parameter)
        }
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        depthwise.bind(parameters: [parameters[0]], gradients: [gradients[0]])
        pointwise.bind(parameters: Array(parameters.dropFirst()), gradients: Array(gradients.dropFirst()))
    }

    public func reserve(maxBatch: Int) {
        if middle.count < maxBatch * middleSize {
            (middle, middleGradient) = (FloatBuffer(count: maxBatch * middleSize), FloatBuffer(count: maxBatch * middleSize))
        }
        pointwise.reserve(maxBatch: maxBatch)
    }

    public func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)] { pointwise.gemmShapes(batch: batch) }
    public func prepare(batch: Int) {
        depthwise.prepare(batch: batch)
        pointwise.prepare(batch: batch)
    }
    public var workspacePerSample: Int { middleSize + pointwise.workspacePerSample }
    public var forwardFLOPsPerSample: Int { depthwise.forwardFLOPsPerSample + pointwise.forwardFLOPsPerSample }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        depthwise.forward(input: input, output: middle.pointer, batch: batch)
        pointwise.forward(input: middle.pointer, output: output, batch: batch)
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        pointwise.backward(outputGradient: outputGradient, inputGradient: middleGradient.pointer,
                           input: middle.pointer, output: output, batch: batch)
        depthwise.backward(outputGradient: middleGradient.pointer, inputGradient: inputGradient,
                           input: input, output: middle.pointer, batch: batch)
    }
}

extension SeparableConv2D: KerasLayer {
    public static let kerasClassName = "SeparableConv2D"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        try config.requireDefault("dilation_rate", .number(1), .array([.number(1), .number(1)]))
        for key in ["depthwise_regularizer", "depthwise_constraint", "pointwise_regularizer", "pointwise_constraint", "bias_constraint", "bias_regularizer"] {
            try config.requireDefault(key)
        }
        let layer = SeparableConv2D(
            filters: try config.int("filters"), kernelSize: try config.pair("kernel_size"), strides: try config.pair("strides", default: (1, 1)),
            padding: try config.padding(), depthMultiplier: try config.int("depth_multiplier", default: 1, range: 1...4096),
            useBias: try config.bool("use_bias", default: true),
            depthwiseInitializer: try .named(in: config, "depthwise_initializer", default: .glorotUniform),
            pointwiseInitializer: try .named(in: config, "pointwise_initializer", default: .glorotUniform),
            biasInitializer: try .named(in: config, "bias_initializer", default: .zeros), gemm: context.gemm)
        var built = try activationLayers(config)
        built.layers.insert(layer, at: 0)
        return built
    }
}
