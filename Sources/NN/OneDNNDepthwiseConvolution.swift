import CDNNL

/// oneDNN's own depthwise convolution on a `DepthwiseConv2D` layer's shape at one batch size: the
/// yardstick the step profile times the layer's direct loop against (never used in training).
/// A grouped convolution with groups = input channels C: weights dims `[G = C, OC/G = dm, IC/G = 1, KH, KW]`
/// in the layout oneDNN picks (`any`), filled from a Keras kernel `[KH, KW, C, dm]` (tag hwigo) by a
/// reorder; input `[N, H, W, C]` and output `[N, OH, OW, C * dm]` NHWC f32 as the layer's, output
/// channel `c * dm + m` on both sides. Padding: the layer's top/left, and at the bottom/right what
/// gives the layer's output size.
///
/// Forward, backward-data and backward-weights are separate primitives, each run alone by `run`, on
/// buffers allocated once and filled with seeded values in [-1, 1). Creating them throws when oneDNN
/// refuses the shape.
public final class OneDNNDepthwiseConvolution {
    public enum Pass: CaseIterable { case forward, backwardData, backwardWeights }

    /// `[N, H, W, C]`: forward's and backward-weights' input.
    public let input: UnsafeMutablePointer<Float>
    /// `[N, OH, OW, C * dm]`: forward's output, and the backward passes' output gradient.
    public let output: UnsafeMutablePointer<Float>, outputGradient: UnsafeMutablePointer<Float>
    /// Values in the input (`N H W C`) and in the output (`N OH OW C dm`).
    public let inputCount: Int, outputCount: Int
    /// `[C * dm]`, nil when the layer has no bias.
    public let bias: UnsafeMutablePointer<Float>?
    /// Each pass's implementation as oneDNN names it (e.g. `jit_dw:avx512_core`).
    public let implementations: [Pass: String]

    private let engine: DNNLEngine
    private let storage = DNNLStorage()
    private let primitives: [Pass: DNNLPrimitive]
    private let forwardWeights: DNNLOperand, backwardDataWeights: DNNLOperand

    public init(_ layer: DepthwiseConv2D, batch: Int) throws {
        guard let g = layer.geometry else { throw ModelError("oneDNN depthwise: the layer is not built") }
        let (channels, dm) = (g.channels, layer.depthMultiplier)
        engine = try DNNLEngine()

        let made = try OneDNNConvolutionDescriptors(g, groups: channels, outputChannels: channels * dm, useBias: layer.useBias, batch: batch,
                                                    engine: engine)
        var (source, destination, biasShape) = (made.source, made.destination, made.bias)
        let (forwardPD, dataPD, weightsPD) = (made.forward, made.backwardData, made.backwardWeights)

        // Shared operands: forward's input is backward-weights' input, and both backward passes read one output gradient.
        let inputOperand = storage.operand(&source), outputGradient = storage.operand(&destination)
        let biasOperand = layer.useBias ? storage.operand(&biasShape) : nil
        forwardWeights = storage.operand(forwardPD.md(dnnl_query_weights_md))
        let dataWeights = dataPD.md(dnnl_query_weights_md)
        backwardDataWeights = dnnl_memory_desc_equal(dataWeights, forwardWeights.md) != 0 ? forwardWeights : storage.operand(dataWeights)
        let forwardOutput = storage.operand(&destination)
        input = inputOperand.floats
        output = forwardOutput.floats
        self.outputGradient = outputGradient.floats
        (inputCount, outputCount) = (batch * g.inputSize, batch * g.outputPixels * channels * dm)
        bias = biasOperand?.floats

        var arguments: [Pass: [(Int32, DNNLOperand)]] = [
            .forward: [(DNNL_ARG_SRC, inputOperand), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, forwardOutput)],
            .backwardData: [(DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_WEIGHTS, backwardDataWeights),
                            (DNNL_ARG_DIFF_SRC, storage.operand(&source))],
            .backwardWeights: [(DNNL_ARG_SRC, inputOperand), (DNNL_ARG_DIFF_DST, outputGradient),
                               (DNNL_ARG_DIFF_WEIGHTS, storage.operand(weightsPD.md(dnnl_query_diff_weights_md)))],
        ]
        if let biasOperand {
            arguments[.forward]!.append((DNNL_ARG_BIAS, biasOperand))
            arguments[.backwardWeights]!.append((DNNL_ARG_DIFF_BIAS, storage.operand(weightsPD.md(dnnl_query_diff_weights_md, 1))))
        }
        let descriptors: [Pass: DNNLPrimitiveDescriptor] = [.forward: forwardPD, .backwardData: dataPD, .backwardWeights: weightsPD]
        var primitives: [Pass: DNNLPrimitive] = [:]
        for pass in Pass.allCases {
            primitives[pass] = try DNNLPrimitive(descriptors[pass]!.handle, arguments[pass]!, engine: engine)
        }
        self.primitives = primitives
        implementations = descriptors.mapValues(\.implementation)

        // Blocked weight layouts pad the groups: fill them through a reorder, which zeroes the padding.
        var rng = SeededGenerator(seed: 11)
        let kernel = (0..<(g.kernelHeight * g.kernelWidth * channels * dm)).map { _ in rng.nextFloat(in: -1, 1) }
        try setKernel(kernel)
    }

    /// Copies a Keras kernel `[KH, KW, C, dm]` into the weights of the forward and backward-data passes.
    public func setKernel(_ kernel: [Float]) throws {
        let dims = forwardWeights.md.pointee.dims   // [C, dm, 1, KH, KW]
        var keras = try describeDNNL([dims.0, dims.1, dims.2, dims.3, dims.4].map { Int($0) }, dnnl_hwigo)
        precondition(kernel.count * 4 == dnnl_memory_desc_get_size(&keras), "kernel of \(kernel.count) values for weights \(dims)")
        var values = kernel
        try withUnsafeMutablePointer(to: &keras) { md in
            try values.withUnsafeMutableBytes { bytes in
                let source = DNNLOperand(md: md, data: bytes.baseAddress!)
                for target in [forwardWeights, backwardDataWeights] {
                    var reorder: dnnl_primitive_desc_t?
                    try checkDNNL(dnnl_reorder_primitive_desc_create(&reorder, md, engine.engine, target.md, engine.engine, nil), "weights reorder")
                    defer { dnnl_primitive_desc_destroy(reorder) }
                    try DNNLPrimitive(reorder!, [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, target)], engine: engine).execute(engine.stream)
                }
            }
        }
    }

    /// "oneDNN 2.6.3": the library's version as loaded.
    public static var version: String {
        let version = dnnl_version().pointee
        return "oneDNN \(version.major).\(version.minor).\(version.patch)"
    }

    /// Runs one pass once, on the calling thread's OpenMP thread count, and waits for it.
    public func run(_ pass: Pass) throws { try primitives[pass]!.execute(engine.stream) }

    /// `body` with oneDNN on one OpenMP thread (the thread count before is restored after): the layer's loop uses one.
    public static func onOneThread<T>(_ body: () throws -> T) rethrows -> T {
        let previous = distill_omp_get_max_threads()
        _ = distill_omp_set_num_threads(1)
        defer { if previous > 0 { _ = distill_omp_set_num_threads(previous) } }
        return try body()
    }
}
