import CDNNL

/// A `DepthwiseConv2D` layer's training path through oneDNN's own depthwise convolution at one batch size,
/// used where the model's backend is oneDNN: on an AMD EPYC Zen 4 its kernels ran the forward pass 1.3-2.5x
/// and the backward pass 2.4-3x as fast as the direct loop (docs/reshape-benchmarks.md).
///
/// The layer's buffers are bound call by call (input, output, bias, gradients). oneDNN's kernels want the
/// weights in a blocked layout of their own: the forward pass reorders the Keras kernel `[KH, KW, C, dm]` into
/// it (a few thousand values), and backward-data reads that copy (a backward runs on its forward's weights;
/// only a backward-data layout of its own is reordered again). The kernel gradient comes back through the
/// inverse reorder into a scratch, then is added, with the bias gradient, into the layer's gradients.
///
/// The kernel and bias gradients go through oneDNN only where it names its depthwise kernel for them
/// (`jit_dw`). Elsewhere (a 5 x 5 or 7 x 7 kernel, a map of one or two pixels, a strided 1 x 1) it falls back to
/// its generic grouped convolution (`jit`), which took 1-20x the direct loop's time on an AMD EPYC Zen 4
/// (133 us against 30 us at 2 x 2 x 144, 32 samples: docs/graph-models.md), so the layer runs its loop for them
/// (`kernelGradientByLoop`). The choice depends on the shape and the CPU's instruction set, never on a timing.
final class OneDNNDepthwisePlan {
    private let descriptors: OneDNNDepthwiseDescriptors
    private let storage = DNNLStorage()
    private let kernel: DNNLOperand                 // Keras layout, bound to the layer's kernel
    private let forward: DNNLPrimitive, backwardData: DNNLPrimitive
    private let toForwardWeights: DNNLPrimitive, toDataWeights: DNNLPrimitive?
    /// The kernel and bias gradients through oneDNN; nil where the layer's loop computes them.
    private let weightsGradient: WeightsGradient?
    /// Whether the layer computes the kernel and bias gradients with its direct loop (oneDNN has no depthwise kernel for them).
    var kernelGradientByLoop: Bool { weightsGradient == nil }

    /// oneDNN's backward-weights primitive, the reorder of its result into the Keras layout, and the scratches it writes.
    private struct WeightsGradient {
        let primitive: DNNLPrimitive, toKeras: DNNLPrimitive
        let kernel: DNNLOperand     // Keras layout, scratch
        let bias: DNNLOperand?      // [C * dm], scratch
    }

    init(_ geometry: WindowGeometry, depthMultiplier: Int, useBias: Bool, batch: Int) throws {
        let made = try OneDNNDepthwiseDescriptors(geometry, depthMultiplier: depthMultiplier, useBias: useBias, batch: batch, engine: try DNNLEngine())
        descriptors = made
        var (source, destination, bias, keras) = (made.source, made.destination, made.bias, made.kerasKernel)
        // Placeholders for the caller's buffers (bound before each call); blocked weights and scratches owned here.
        let input = storage.placeholder(&source), output = storage.placeholder(&destination)
        let outputGradient = storage.placeholder(&destination), inputGradient = storage.placeholder(&source)
        kernel = storage.placeholder(&keras)
        let forwardWeights = storage.operand(made.forward.md(dnnl_query_weights_md))
        let dataWeightsMD = made.backwardData.md(dnnl_query_weights_md)
        let sameWeights = dnnl_memory_desc_equal(dataWeightsMD, forwardWeights.md) != 0
        let dataWeights = sameWeights ? forwardWeights : storage.operand(dataWeightsMD)
        let biasOperand = useBias ? storage.placeholder(&bias) : nil

        var forwardArguments = [(DNNL_ARG_SRC, input), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, output)]
        if let biasOperand { forwardArguments.append((DNNL_ARG_BIAS, biasOperand)) }
        forward = try DNNLPrimitive(made.forward.handle, forwardArguments, engine: made.engine)
        backwardData = try DNNLPrimitive(made.backwardData.handle, [(DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_WEIGHTS, dataWeights),
                                                                    (DNNL_ARG_DIFF_SRC, inputGradient)], engine: made.engine)
        toForwardWeights = try made.reorder(from: kernel, to: forwardWeights)
        toDataWeights = sameWeights ? nil : try made.reorder(from: kernel, to: dataWeights)

        guard made.backwardWeights.implementation.hasPrefix("jit_dw") else { weightsGradient = nil; return }
        let blockedGradient = storage.operand(made.backwardWeights.md(dnnl_query_diff_weights_md))
        let kernelScratch = storage.operand(&keras), biasScratch = useBias ? storage.operand(&bias) : nil
        var weightsArguments = [(DNNL_ARG_SRC, input), (DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_DIFF_WEIGHTS, blockedGradient)]
        if let biasScratch { weightsArguments.append((DNNL_ARG_DIFF_BIAS, biasScratch)) }
        weightsGradient = WeightsGradient(primitive: try DNNLPrimitive(made.backwardWeights.handle, weightsArguments, engine: made.engine),
                                          toKeras: try made.reorder(from: blockedGradient, to: kernelScratch),
                                          kernel: kernelScratch, bias: biasScratch)
    }

    /// `output[N, OH, OW, C * dm]` from `input[N, H, W, C]`, the Keras `kernel` and `bias`.
    func forward(input: UnsafePointer<Float>, kernel kernelValues: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>) {
        toForwardWeights.bind(DNNL_ARG_FROM, to: kernelValues)
        forward.bind(DNNL_ARG_SRC, to: input)
        forward.bind(DNNL_ARG_DST, to: output)
        if let bias { forward.bind(DNNL_ARG_BIAS, to: bias) }
        run(toForwardWeights)
        run(forward)
    }

    /// Writes the input gradient where asked, and adds the kernel and bias gradients into the layer's
    /// (unless `kernelGradientByLoop`: then the layer's loop adds them).
    func backward(input: UnsafePointer<Float>, kernel kernelValues: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, kernelGradient kernelSum: UnsafeMutablePointer<Float>,
                  biasGradient biasSum: UnsafeMutablePointer<Float>?) {
        if let inputGradient {
            if let toDataWeights {
                toDataWeights.bind(DNNL_ARG_FROM, to: kernelValues)
                run(toDataWeights)
            }
            backwardData.bind(DNNL_ARG_DIFF_DST, to: outputGradient)
            backwardData.bind(DNNL_ARG_DIFF_SRC, to: inputGradient)
            run(backwardData)
        }
        guard let weightsGradient else { return }
        weightsGradient.primitive.bind(DNNL_ARG_SRC, to: input)
        weightsGradient.primitive.bind(DNNL_ARG_DIFF_DST, to: outputGradient)
        run(weightsGradient.primitive)
        run(weightsGradient.toKeras)
        add(weightsGradient.kernel, into: kernelSum)
        if let biasGradient = weightsGradient.bias, let biasSum { add(biasGradient, into: biasSum) }
    }

    private func add(_ scratch: DNNLOperand, into sum: UnsafeMutablePointer<Float>) {
        let values = scratch.floats
        for i in 0..<dnnl_memory_desc_get_size(scratch.md) / 4 { sum[i] += values[i] }
    }

    /// A pass on the caller's thread; a failure here is a broken library, not bad input: it stops with oneDNN's status.
    private func run(_ primitive: DNNLPrimitive) {
        do { try primitive.execute(descriptors.engine.stream) } catch { preconditionFailure("\(error)") }
    }
}
