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
final class OneDNNDepthwisePlan {
    private let descriptors: OneDNNDepthwiseDescriptors
    private let storage = DNNLStorage()
    private let kernel: DNNLOperand                 // Keras layout, bound to the layer's kernel
    private let kernelGradient: DNNLOperand         // Keras layout, scratch
    private let biasGradient: DNNLOperand?          // [C * dm], scratch
    private let forward: DNNLPrimitive, backwardData: DNNLPrimitive, backwardWeights: DNNLPrimitive
    private let toForwardWeights: DNNLPrimitive, toDataWeights: DNNLPrimitive?, fromWeightsGradient: DNNLPrimitive
    private let useBias: Bool

    init(_ geometry: WindowGeometry, depthMultiplier: Int, useBias: Bool, batch: Int) throws {
        let made = try OneDNNDepthwiseDescriptors(geometry, depthMultiplier: depthMultiplier, useBias: useBias, batch: batch, engine: try DNNLEngine())
        descriptors = made
        self.useBias = useBias
        var (source, destination, bias, keras) = (made.source, made.destination, made.bias, made.kerasKernel)
        // Placeholders for the caller's buffers (bound before each call); blocked weights and scratches owned here.
        let input = storage.placeholder(&source), output = storage.placeholder(&destination)
        let outputGradient = storage.placeholder(&destination), inputGradient = storage.placeholder(&source)
        kernel = storage.placeholder(&keras)
        kernelGradient = storage.operand(&keras)
        let forwardWeights = storage.operand(made.forward.md(dnnl_query_weights_md))
        let dataWeightsMD = made.backwardData.md(dnnl_query_weights_md)
        let sameWeights = dnnl_memory_desc_equal(dataWeightsMD, forwardWeights.md) != 0
        let dataWeights = sameWeights ? forwardWeights : storage.operand(dataWeightsMD)
        let weightsGradient = storage.operand(made.backwardWeights.md(dnnl_query_diff_weights_md))
        let biasOperand = useBias ? storage.placeholder(&bias) : nil
        biasGradient = useBias ? storage.operand(&bias) : nil

        var forwardArguments = [(DNNL_ARG_SRC, input), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, output)]
        var weightsArguments = [(DNNL_ARG_SRC, input), (DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_DIFF_WEIGHTS, weightsGradient)]
        if let biasOperand, let biasGradient {
            forwardArguments.append((DNNL_ARG_BIAS, biasOperand))
            weightsArguments.append((DNNL_ARG_DIFF_BIAS, biasGradient))
        }
        forward = try DNNLPrimitive(made.forward.handle, forwardArguments, engine: made.engine)
        backwardData = try DNNLPrimitive(made.backwardData.handle, [(DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_WEIGHTS, dataWeights),
                                                                    (DNNL_ARG_DIFF_SRC, inputGradient)], engine: made.engine)
        backwardWeights = try DNNLPrimitive(made.backwardWeights.handle, weightsArguments, engine: made.engine)
        toForwardWeights = try made.reorder(from: kernel, to: forwardWeights)
        toDataWeights = sameWeights ? nil : try made.reorder(from: kernel, to: dataWeights)
        fromWeightsGradient = try made.reorder(from: weightsGradient, to: kernelGradient)
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

    /// Adds the kernel and bias gradients into the layer's, and writes the input gradient where asked.
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
        backwardWeights.bind(DNNL_ARG_SRC, to: input)
        backwardWeights.bind(DNNL_ARG_DIFF_DST, to: outputGradient)
        run(backwardWeights)
        run(fromWeightsGradient)
        add(kernelGradient, into: kernelSum)
        if let biasGradient, let biasSum { add(biasGradient, into: biasSum) }
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
