import CDNNL

/// oneDNN's three convolution primitive descriptors (forward, backward data, backward weights) for a
/// convolution layer's shape at one batch size: input `[N, H, W, C]` and output `[N, OH, OW, OC]` NHWC f32
/// as the layers keep them, bias `[OC]`, weights in the layout oneDNN picks (`any`: its fast kernels refuse the
/// plain Keras layout): `[OC, C, KH, KW]` for a plain convolution (`groups` nil), or grouped `[G, OC/G, C/G,
/// KH, KW]` with output channel `g * OC/G + j`, as Keras's grouped and depthwise kernels order them (a
/// depthwise convolution is G = C, grouped even at C = 1: oneDNN's depthwise kernels want it so). Padding:
/// the layer's top/left, and at the bottom/right what gives the layer's output size. The forward descriptor
/// is the backward ones' hint. Throws where oneDNN refuses.
struct OneDNNConvolutionDescriptors {
    let engine: DNNLEngine
    var source: dnnl_memory_desc_t, destination: dnnl_memory_desc_t, bias: dnnl_memory_desc_t
    /// The Keras kernel as oneDNN sees it: `[KH, KW, C, OC]` (tag hwio), or grouped `[KH, KW, C/G, G * OC/G]`
    /// (tag hwigo; a depthwise `[KH, KW, C, dm]`): what reorders go from and to.
    var kerasKernel: dnnl_memory_desc_t
    let forward: DNNLPrimitiveDescriptor, backwardData: DNNLPrimitiveDescriptor, backwardWeights: DNNLPrimitiveDescriptor

    init(_ g: WindowGeometry, groups: Int?, outputChannels: Int, useBias: Bool, batch: Int, engine: DNNLEngine) throws {
        self.engine = engine
        let padRight = [(g.outputHeight - 1) * g.strideHeight + g.kernelHeight - g.height - g.padTop,
                        (g.outputWidth - 1) * g.strideWidth + g.kernelWidth - g.width - g.padLeft].map { dnnl_dim_t(max($0, 0)) }
        let padLeft = [g.padTop, g.padLeft].map(dnnl_dim_t.init), strides = [g.strideHeight, g.strideWidth].map(dnnl_dim_t.init)
        source = try describeDNNL([batch, g.channels, g.height, g.width], dnnl_nhwc)
        destination = try describeDNNL([batch, outputChannels, g.outputHeight, g.outputWidth], dnnl_nhwc)
        bias = try describeDNNL([outputChannels], dnnl_a)
        let weightDims = groups.map { [$0, outputChannels / $0, g.channels / $0, g.kernelHeight, g.kernelWidth] }
            ?? [outputChannels, g.channels, g.kernelHeight, g.kernelWidth]
        kerasKernel = try describeDNNL(weightDims, groups == nil ? dnnl_hwio : dnnl_hwigo)
        var weights = try describeDNNL(weightDims, dnnl_format_tag_any)

        var forwardOperation = dnnl_convolution_desc_t(), dataOperation = dnnl_convolution_desc_t(), weightsOperation = dnnl_convolution_desc_t()
        let (sourceMD, destinationMD, biasMD) = (source, destination, bias)
        try withUnsafePointer(to: sourceMD) { source in
            try withUnsafePointer(to: destinationMD) { destination in
                try withOptionalDNNLPointer(useBias ? biasMD : nil) { bias in
                    try checkDNNL(dnnl_convolution_forward_desc_init(&forwardOperation, dnnl_forward_training, dnnl_convolution_direct, source, &weights,
                                                                     bias, destination, strides, padLeft, padRight), "forward")
                    try checkDNNL(dnnl_convolution_backward_weights_desc_init(&weightsOperation, dnnl_convolution_direct, source, &weights,
                                                                              bias, destination, strides, padLeft, padRight), "backward weights")
                }
                try checkDNNL(dnnl_convolution_backward_data_desc_init(&dataOperation, dnnl_convolution_direct, source, &weights, destination,
                                                                       strides, padLeft, padRight), "backward data")
            }
        }
        let forwardDescriptor = try DNNLPrimitiveDescriptor(&forwardOperation, engine: engine, hint: nil)
        forward = forwardDescriptor
        backwardData = try DNNLPrimitiveDescriptor(&dataOperation, engine: engine, hint: forwardDescriptor)
        backwardWeights = try DNNLPrimitiveDescriptor(&weightsOperation, engine: engine, hint: forwardDescriptor)
    }

    /// A reorder primitive between two operands' layouts.
    func reorder(from source: DNNLOperand, to target: DNNLOperand) throws -> DNNLPrimitive {
        var descriptor: dnnl_primitive_desc_t?
        try checkDNNL(dnnl_reorder_primitive_desc_create(&descriptor, source.md, engine.engine, target.md, engine.engine, nil), "weights reorder")
        defer { dnnl_primitive_desc_destroy(descriptor) }
        return try DNNLPrimitive(descriptor!, [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, target)], engine: engine)
    }
}
