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
    /// `[N, OH, OW, C * dm]`: forward's output.
    public let output: UnsafeMutablePointer<Float>
    /// `[C * dm]`, nil when the layer has no bias.
    public let bias: UnsafeMutablePointer<Float>?
    /// Each pass's implementation as oneDNN names it (e.g. `jit_dw:avx512_core`).
    public let implementations: [Pass: String]

    private let engine: Engine
    private let storage = Storage()
    private let primitives: [Pass: Primitive]
    private let forwardWeights: Operand, backwardDataWeights: Operand

    public init(_ layer: DepthwiseConv2D, batch: Int) throws {
        guard let g = layer.geometry else { throw ModelError("oneDNN depthwise: the layer is not built") }
        let (channels, dm) = (g.channels, layer.depthMultiplier)
        engine = try Engine()

        let padRight = [(g.outputHeight - 1) * g.strideHeight + g.kernelHeight - g.height - g.padTop,
                        (g.outputWidth - 1) * g.strideWidth + g.kernelWidth - g.width - g.padLeft].map { dnnl_dim_t(max($0, 0)) }
        let padLeft = [g.padTop, g.padLeft].map(dnnl_dim_t.init), strides = [g.strideHeight, g.strideWidth].map(dnnl_dim_t.init)
        var source = try describe([batch, channels, g.height, g.width], dnnl_nhwc)
        var destination = try describe([batch, channels * dm, g.outputHeight, g.outputWidth], dnnl_nhwc)
        var weights = try describe([channels, dm, 1, g.kernelHeight, g.kernelWidth], dnnl_format_tag_any)
        var biasShape = try describe([channels * dm], dnnl_a)

        // The three operation descriptors; the forward primitive descriptor is the backward ones' hint.
        var forward = dnnl_convolution_desc_t(), backwardData = dnnl_convolution_desc_t(), backwardWeights = dnnl_convolution_desc_t()
        try withOptionalPointer(layer.useBias ? biasShape : nil) { biasDescription in
            try check(dnnl_convolution_forward_desc_init(&forward, dnnl_forward_training, dnnl_convolution_direct, &source, &weights,
                                                         biasDescription, &destination, strides, padLeft, padRight), "forward")
            try check(dnnl_convolution_backward_weights_desc_init(&backwardWeights, dnnl_convolution_direct, &source, &weights,
                                                                  biasDescription, &destination, strides, padLeft, padRight), "backward weights")
        }
        try check(dnnl_convolution_backward_data_desc_init(&backwardData, dnnl_convolution_direct, &source, &weights, &destination,
                                                           strides, padLeft, padRight), "backward data")
        let forwardPD = try PrimitiveDescriptor(&forward, engine: engine, hint: nil)
        let dataPD = try PrimitiveDescriptor(&backwardData, engine: engine, hint: forwardPD)
        let weightsPD = try PrimitiveDescriptor(&backwardWeights, engine: engine, hint: forwardPD)

        // Shared operands: forward's input is backward-weights' input, and both backward passes read one output gradient.
        let inputOperand = storage.operand(&source), outputGradient = storage.operand(&destination)
        let biasOperand = layer.useBias ? storage.operand(&biasShape) : nil
        forwardWeights = storage.operand(forwardPD.md(dnnl_query_weights_md))
        let dataWeights = dataPD.md(dnnl_query_weights_md)
        backwardDataWeights = dnnl_memory_desc_equal(dataWeights, forwardWeights.md) != 0 ? forwardWeights : storage.operand(dataWeights)
        let forwardOutput = storage.operand(&destination)
        input = inputOperand.floats
        output = forwardOutput.floats
        bias = biasOperand?.floats

        var arguments: [Pass: [(Int32, Operand)]] = [
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
        let descriptors: [Pass: PrimitiveDescriptor] = [.forward: forwardPD, .backwardData: dataPD, .backwardWeights: weightsPD]
        var primitives: [Pass: Primitive] = [:]
        for pass in Pass.allCases {
            primitives[pass] = try Primitive(descriptors[pass]!.handle, arguments[pass]!, engine: engine)
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
        var keras = try describe([dims.0, dims.1, dims.2, dims.3, dims.4].map { Int($0) }, dnnl_hwigo)
        precondition(kernel.count * 4 == dnnl_memory_desc_get_size(&keras), "kernel of \(kernel.count) values for weights \(dims)")
        var values = kernel
        try withUnsafeMutablePointer(to: &keras) { md in
            try values.withUnsafeMutableBytes { bytes in
                let source = Operand(md: md, data: bytes.baseAddress!)
                for target in [forwardWeights, backwardDataWeights] {
                    var reorder: dnnl_primitive_desc_t?
                    try check(dnnl_reorder_primitive_desc_create(&reorder, md, engine.engine, target.md, engine.engine, nil), "weights reorder")
                    defer { dnnl_primitive_desc_destroy(reorder) }
                    try Primitive(reorder!, [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, target)], engine: engine).execute(engine.stream)
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

/// A CPU engine and its stream; primitives keep it alive.
private final class Engine {
    let engine: dnnl_engine_t, stream: dnnl_stream_t

    init() throws {
        var engine: dnnl_engine_t?, stream: dnnl_stream_t?
        try check(dnnl_engine_create(&engine, dnnl_cpu, 0), "CPU engine")
        guard dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)) == dnnl_success, let stream else {
            dnnl_engine_destroy(engine)
            throw ModelError("oneDNN could not create a CPU stream")
        }
        (self.engine, self.stream) = (engine!, stream)
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }
}

/// A memory description and the bytes it describes (owned by `Storage`, or the caller's for a reorder source).
private struct Operand {
    let md: UnsafeMutablePointer<dnnl_memory_desc_t>
    let data: UnsafeMutableRawPointer
    var floats: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }

    init(md: UnsafeMutablePointer<dnnl_memory_desc_t>, data: UnsafeMutableRawPointer) { (self.md, self.data) = (md, data) }
}

/// Owns every operand's description and bytes (64-byte aligned, seeded values in [-1, 1)).
private final class Storage {
    private var allocations: [UnsafeMutableRawPointer] = []
    private var rng = SeededGenerator(seed: 10)

    func operand(_ description: UnsafePointer<dnnl_memory_desc_t>) -> Operand {
        let md = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 1)
        md.initialize(to: description.pointee)
        let bytes = dnnl_memory_desc_get_size(md)
        let data = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        let floats = data.bindMemory(to: Float.self, capacity: max(bytes / 4, 1))
        for i in 0..<bytes / 4 { floats[i] = rng.nextFloat(in: -1, 1) }
        allocations += [UnsafeMutableRawPointer(md), data]
        return Operand(md: md, data: data)
    }

    deinit { for allocation in allocations { allocation.deallocate() } }
}

/// A primitive descriptor made from an operation descriptor, destroyed with this object.
private final class PrimitiveDescriptor {
    let handle: dnnl_primitive_desc_t
    let implementation: String

    init(_ operation: inout dnnl_convolution_desc_t, engine: Engine, hint: PrimitiveDescriptor?) throws {
        var handle: dnnl_primitive_desc_t?
        try check(withUnsafePointer(to: &operation) { dnnl_primitive_desc_create(&handle, $0, nil, engine.engine, hint?.handle) },
                  "convolution primitive descriptor")
        self.handle = handle!
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(handle, dnnl_query_impl_info_str, 0, &name)
        implementation = name.map { String(cString: $0) } ?? "?"
    }

    deinit { dnnl_primitive_desc_destroy(handle) }

    /// The memory description the primitive chose for `query` (the `index`th of its kind).
    func md(_ query: dnnl_query_t, _ index: Int32 = 0) -> UnsafePointer<dnnl_memory_desc_t> {
        dnnl_primitive_desc_query_md(handle, query, index)!
    }
}

/// A primitive with its memory objects bound to its operands' bytes.
private final class Primitive {
    let engine: Engine
    let handle: dnnl_primitive_t
    var memories: [dnnl_memory_t] = []
    let arguments: [dnnl_exec_arg_t]

    init(_ descriptor: dnnl_primitive_desc_t, _ operands: [(Int32, Operand)], engine: Engine) throws {
        self.engine = engine
        var handle: dnnl_primitive_t?
        try check(dnnl_primitive_create(&handle, descriptor), "primitive")
        self.handle = handle!
        var arguments: [dnnl_exec_arg_t] = []
        for (argument, operand) in operands {
            var memory: dnnl_memory_t?
            try check(dnnl_memory_create(&memory, operand.md, engine.engine, operand.data), "memory")
            memories.append(memory!)
            arguments.append(dnnl_exec_arg_t(arg: argument, memory: memory))
        }
        self.arguments = arguments
    }

    deinit {
        for memory in memories { dnnl_memory_destroy(memory) }
        dnnl_primitive_destroy(handle)
    }

    func execute(_ stream: dnnl_stream_t) throws {
        try check(dnnl_primitive_execute(handle, stream, Int32(arguments.count), arguments), "execute")
        try check(dnnl_stream_wait(stream), "stream wait")
    }
}

/// A plain f32 memory description of `dims` in layout `tag`.
private func describe(_ dims: [Int], _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    try check(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims.map(dnnl_dim_t.init), dnnl_f32, tag), "memory \(dims)")
    return md
}

private func withOptionalPointer<T>(_ value: dnnl_memory_desc_t?, _ body: (UnsafePointer<dnnl_memory_desc_t>?) throws -> T) rethrows -> T {
    guard var value else { return try body(nil) }
    return try withUnsafePointer(to: &value) { try body($0) }
}

private func check(_ status: dnnl_status_t, _ what: String) throws {
    guard status == dnnl_success else { throw ModelError("oneDNN refused the depthwise convolution's \(what) (status \(status.rawValue))") }
}
