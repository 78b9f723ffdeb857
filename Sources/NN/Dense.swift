/// Fully connected layer as Keras's `Dense` (no activation): kernel `[in, units]`, bias `[units]` (unless `useBias` is false).
/// Input `[N, in]` -> output `[N, units]`; on an input of more axes, as Keras, the last one: `[N, H, W, in]` ->
/// `[N, H, W, units]`, one product of `N * H * W` rows (ConvNeXt's pointwise layers).
public final class Dense: PlannedLayer {
    public let units: Int
    public let useBias: Bool
    public let kernelInitializer: Initializer, biasInitializer: Initializer
    public let gemm: GEMMBackend
    public var kind: String { "dense" }

    private var inputCount = 0
    private var positions = 1   // per sample, the rows the kernel is applied to (1 for a flat input)
    private var kernel: UnsafeMutablePointer<Float>!, bias: UnsafeMutablePointer<Float>?
    private var kernelGradient: UnsafeMutablePointer<Float>!, biasGradient: UnsafeMutablePointer<Float>?

    public init(units: Int, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
                gemm: GEMMBackend) {
        (self.units, self.useBias, self.gemm) = (units, useBias, gemm)
        (self.kernelInitializer, self.biasInitializer) = (kernelInitializer, biasInitializer)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("dense needs an input with features, got \(inputShape)") }
        guard units > 0 else { throw ModelError("dense needs a positive number of units, got \(units)") }
        (inputCount, positions) = (last, elementCount(inputShape.dropLast()))
        return inputShape.dropLast() + [units]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("kernel", [inputCount, units])] + (useBias ? [("bias", [units])] : [])
    }

    public func initializer(for parameter: String) -> Initializer { parameter == "kernel" ? kernelInitializer : biasInitializer }

    public var forwardFLOPsPerSample: Int { 2 * positions * inputCount * units }

    /// None: the product reads the input and writes the output directly.
    public var workspacePerSample: Int { 0 }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (kernel, bias) = (parameters[0], useBias ? parameters[1] : nil)
        (kernelGradient, biasGradient) = (gradients[0], useBias ? gradients[1] : nil)
    }

    /// output[N, units] += input [N, in] * kernel [in, units] (N: every position of every sample).
    func forwardGEMM(batch: Int) -> GEMMShape {
        GEMMShape(m: batch * positions, n: units, k: inputCount, lda: inputCount, ldb: units, ldc: units, accumulate: true)
    }

    /// dKernel[in, units] += input^T [in, N] * dOut [N, units].
    func kernelGradientGEMM(batch: Int) -> GEMMShape {
        GEMMShape(transposeA: true, m: inputCount, n: units, k: batch * positions, lda: inputCount, ldb: units, ldc: units, accumulate: true)
    }

    /// dInput[N, in] = dOut [N, units] * kernel^T [units, in].
    func inputGradientGEMM(batch: Int) -> GEMMShape {
        GEMMShape(transposeB: true, m: batch * positions, n: inputCount, k: units, lda: units, ldb: units, ldc: inputCount)
    }

    public func gemmShapes(batch: Int) -> [(name: String, shape: GEMMShape)] {
        [("forward", forwardGEMM(batch: batch)), ("kernel gradient", kernelGradientGEMM(batch: batch)),
         ("input gradient", inputGradientGEMM(batch: batch))]
    }

    public func prepare(batch: Int) {
        for (_, shape) in gemmShapes(batch: batch) { gemm.prepare(shape) }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        startFromBias(bias, output, rows: batch * positions, columns: units)
        gemm.multiply(forwardGEMM(batch: batch), input, kernel, output)
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        gemm.multiply(kernelGradientGEMM(batch: batch), input, outputGradient, kernelGradient)
        if let biasGradient { accumulateColumnSums(outputGradient, rows: batch * positions, columns: units, into: biasGradient) }
        guard let inputGradient else { return }
        gemm.multiply(inputGradientGEMM(batch: batch), outputGradient, kernel, inputGradient)
    }
}

extension Dense: KerasLayer {
    public static let kerasClassName = "Dense"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let dense = Dense(units: try config.int("units"), useBias: try config.bool("use_bias", default: true),
                          kernelInitializer: try .named(in: config, "kernel_initializer", default: .glorotUniform),
                          biasInitializer: try .named(in: config, "bias_initializer", default: .zeros), gemm: context.gemm)
        config.ignore("lora_alpha")   // used only with lora_rank, which is refused unless null
        var built = try activationLayers(config)
        built.layers.insert(dense, at: 0)
        built.constraints = try WeightConstraint.constraints(config)
        built.regularizers = try WeightRegularizer.regularizers(config)
        return built
    }
}
