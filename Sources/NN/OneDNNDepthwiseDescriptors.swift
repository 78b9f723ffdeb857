import CDNNL

/// oneDNN's three depthwise convolution primitive descriptors for a `DepthwiseConv2D` layer's shape at one
/// batch size: a grouped convolution with groups = input channels C, weights dims `[G = C, OC/G = dm, IC/G = 1,
/// KH, KW]` in the layout oneDNN picks (its fast depthwise kernels refuse the plain Keras layout), input
/// `[N, H, W, C]` and output `[N, OH, OW, C * dm]` NHWC f32 as the layer's (output channel `c * dm + m` on
/// both sides), bias `[C * dm]`. Padding: the layer's top/left, and at the bottom/right what gives the
/// layer's output size. The forward descriptor is the backward ones' hint. Throws where oneDNN refuses.
struct OneDNNDepthwiseDescriptors {
    let engine: DNNLEngine
    var source: dnnl_memory_desc_t, destination: dnnl_memory_desc_t, bias: dnnl_memory_desc_t
    /// The Keras kernel `[KH, KW, C, dm]` as oneDNN sees it (tag hwigo): what reorders go from and to.
    var kerasKernel: dnnl_memory_desc_t
    let forward: DNNLPrimitiveDescriptor, backwardData: DNNLPrimitiveDescriptor, backwardWeights: DNNLPrimitiveDescriptor

    init(_ g: WindowGeometry, depthMultiplier dm: Int, useBias: Bool, batch: Int, engine: DNNLEngine) throws {
        self.engine = engine
        let channels = g.channels
        let padRight = [(g.outputHeight - 1) * g.strideHeight + g.kernelHeight - g.height - g.padTop,
                        (g.outputWidth - 1) * g.strideWidth + g.kernelWidth - g.width - g.padLeft].map { dnnl_dim_t(max($0, 0)) }
        let padLeft = [g.padTop, g.padLeft].map(dnnl_dim_t.init), strides = [g.strideHeight, g.strideWidth].map(dnnl_dim_t.init)
        source = try describeDNNL([batch, channels, g.height, g.width], dnnl_nhwc)
        destination = try describeDNNL([batch, channels * dm, g.outputHeight, g.outputWidth], dnnl_nhwc)
        bias = try describeDNNL([channels * dm], dnnl_a)
        kerasKernel = try describeDNNL([channels, dm, 1, g.kernelHeight, g.kernelWidth], dnnl_hwigo)
        var weights = try describeDNNL([channels, dm, 1, g.kernelHeight, g.kernelWidth], dnnl_format_tag_any)

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
