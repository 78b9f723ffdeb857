import CDNNL

/// A convolution layer's training path through oneDNN's own convolution at one batch size, used where the
/// model's backend is oneDNN: `DepthwiseConv2D` (groups = channels; on an AMD EPYC Zen 4 its kernels ran the
/// forward pass 1.3-2.5x and the backward pass 2.4-3x as fast as the direct loop, docs/reshape-benchmarks.md)
/// and `Conv2D` (plain weights; where it needs im2col and its rules allow, docs/profile.md).
///
/// The layer's buffers are bound call by call (input, output, bias, gradients). oneDNN's kernels want the
/// weights in a blocked layout of their own: the forward pass reorders the Keras kernel into it (a few
/// thousand values), and backward-data reads that copy (a backward runs on its forward's weights; only a
/// backward-data layout of its own is reordered again). The kernel gradient comes back through the inverse
/// reorder into a scratch, then is added, with the bias gradient, into the layer's gradients.
///
/// The layer chooses, from the descriptors (the shape, and the kernels oneDNN picked for this CPU's
/// instruction set; never a timing), which backward passes oneDNN runs (`Passes`); it computes the others.
final class OneDNNConvolutionPlan {
    /// The backward passes oneDNN runs: the input gradient, and the kernel and bias gradients.
    struct Passes { var inputGradient: Bool, kernelGradient: Bool }
    let passes: Passes

    private let descriptors: OneDNNConvolutionDescriptors
    private let storage = DNNLStorage()
    private let kernel: DNNLOperand                 // Keras layout, bound to the layer's kernel
    private let forward: DNNLPrimitive, toForwardWeights: DNNLPrimitive
    private let inputGradient: InputGradient?       // nil where the layer computes it
    private let weightsGradient: WeightsGradient?   // nil where the layer computes them

    /// oneDNN's backward-data primitive, and the reorder into its weights layout where it differs from forward's.
    private struct InputGradient { let primitive: DNNLPrimitive, toWeights: DNNLPrimitive? }
    /// oneDNN's backward-weights primitive, the reorder of its result into the Keras layout, and the scratches it writes.
    private struct WeightsGradient {
        let primitive: DNNLPrimitive, toKeras: DNNLPrimitive
        let kernel: DNNLOperand     // Keras layout, scratch
        let bias: DNNLOperand?      // [OC], scratch
    }

    init(_ geometry: WindowGeometry, groups: Int?, outputChannels: Int, useBias: Bool, batch: Int,
         choosing choose: (OneDNNConvolutionDescriptors) -> Passes) throws {
        let made = try OneDNNConvolutionDescriptors(geometry, groups: groups, outputChannels: outputChannels, useBias: useBias, batch: batch,
                                                    engine: try DNNLEngine())
        descriptors = made
        passes = choose(made)
        var (source, destination, bias, keras) = (made.source, made.destination, made.bias, made.kerasKernel)
        // Placeholders for the caller's buffers (bound before each call); blocked weights and scratches owned here.
        let input = storage.placeholder(&source), output = storage.placeholder(&destination)
        let outputGradient = storage.placeholder(&destination)
        kernel = storage.placeholder(&keras)
        let forwardWeights = storage.operand(made.forward.md(dnnl_query_weights_md))
        let biasOperand = useBias ? storage.placeholder(&bias) : nil

        var forwardArguments = [(DNNL_ARG_SRC, input), (DNNL_ARG_WEIGHTS, forwardWeights), (DNNL_ARG_DST, output)]
        if let biasOperand { forwardArguments.append((DNNL_ARG_BIAS, biasOperand)) }
        forward = try DNNLPrimitive(made.forward.handle, forwardArguments, engine: made.engine)
        toForwardWeights = try made.reorder(from: kernel, to: forwardWeights)

        if passes.inputGradient {
            let dataWeightsMD = made.backwardData.md(dnnl_query_weights_md)
            let sameWeights = dnnl_memory_desc_equal(dataWeightsMD, forwardWeights.md) != 0
            let dataWeights = sameWeights ? forwardWeights : storage.operand(dataWeightsMD)
            inputGradient = InputGradient(
                primitive: try DNNLPrimitive(made.backwardData.handle, [(DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_WEIGHTS, dataWeights),
                                                                        (DNNL_ARG_DIFF_SRC, storage.placeholder(&source))], engine: made.engine),
                toWeights: sameWeights ? nil : try made.reorder(from: kernel, to: dataWeights))
        } else {
            inputGradient = nil
        }

        guard passes.kernelGradient else { weightsGradient = nil; return }
        let blockedGradient = storage.operand(made.backwardWeights.md(dnnl_query_diff_weights_md))
        let kernelScratch = storage.operand(&keras), biasScratch = useBias ? storage.operand(&bias) : nil
        var weightsArguments = [(DNNL_ARG_SRC, input), (DNNL_ARG_DIFF_DST, outputGradient), (DNNL_ARG_DIFF_WEIGHTS, blockedGradient)]
        if let biasScratch { weightsArguments.append((DNNL_ARG_DIFF_BIAS, biasScratch)) }
        weightsGradient = WeightsGradient(primitive: try DNNLPrimitive(made.backwardWeights.handle, weightsArguments, engine: made.engine),
                                          toKeras: try made.reorder(from: blockedGradient, to: kernelScratch),
                                          kernel: kernelScratch, bias: biasScratch)
    }

    /// `output[N, OH, OW, OC]` from `input[N, H, W, C]`, the Keras `kernel` and `bias`.
    func forward(input: UnsafePointer<Float>, kernel kernelValues: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>) {
        toForwardWeights.bind(DNNL_ARG_FROM, to: kernelValues)
        forward.bind(DNNL_ARG_SRC, to: input)
        forward.bind(DNNL_ARG_DST, to: output)
        if let bias { forward.bind(DNNL_ARG_BIAS, to: bias) }
        run(toForwardWeights)
        run(forward)
    }

    /// Writes the input gradient where asked (if `passes.inputGradient`), and adds the kernel and bias gradients
    /// into the layer's (if `passes.kernelGradient`); the layer computes what `passes` leaves out.
    func backward(input: UnsafePointer<Float>, kernel kernelValues: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                  inputGradient target: UnsafeMutablePointer<Float>?, kernelGradient kernelSum: UnsafeMutablePointer<Float>,
                  biasGradient biasSum: UnsafeMutablePointer<Float>?) {
        if let target, let inputGradient {
            if let toWeights = inputGradient.toWeights {
                toWeights.bind(DNNL_ARG_FROM, to: kernelValues)
                run(toWeights)
            }
            inputGradient.primitive.bind(DNNL_ARG_DIFF_DST, to: outputGradient)
            inputGradient.primitive.bind(DNNL_ARG_DIFF_SRC, to: target)
            run(inputGradient.primitive)
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
        accumulate(scratch.floats, into: sum, count: dnnl_memory_desc_get_size(scratch.md) / 4)
    }

    /// A pass on the caller's thread; a failure here is a broken library, not bad input: it stops with oneDNN's status.
    private func run(_ primitive: DNNLPrimitive) {
        do { try primitive.execute(descriptors.engine.stream) } catch { preconditionFailure("\(error)") }
    }
}
