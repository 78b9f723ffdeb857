import CDNNL

// The pieces of oneDNN's C API that the convolutions' training paths (and the depthwise bench yardstick)
// are made of: an engine and stream, memory operands, primitive descriptors and primitives.

/// A CPU engine and its stream; primitives keep it alive.
final class DNNLEngine {
    let engine: dnnl_engine_t, stream: dnnl_stream_t

    init() throws {
        var engine: dnnl_engine_t?, stream: dnnl_stream_t?
        try checkDNNL(dnnl_engine_create(&engine, dnnl_cpu, 0), "CPU engine")
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

/// A memory description and the bytes it describes (owned by `DNNLStorage`, or the caller's for a reorder source).
struct DNNLOperand {
    let md: UnsafeMutablePointer<dnnl_memory_desc_t>
    let data: UnsafeMutableRawPointer
    var floats: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }

    init(md: UnsafeMutablePointer<dnnl_memory_desc_t>, data: UnsafeMutableRawPointer) { (self.md, self.data) = (md, data) }
}

/// Owns every operand's description and bytes (64-byte aligned, seeded values in [-1, 1)).
final class DNNLStorage {
    private var allocations: [UnsafeMutableRawPointer] = []
    private var rng = SeededGenerator(seed: 10)

    func operand(_ description: UnsafePointer<dnnl_memory_desc_t>) -> DNNLOperand {
        let md = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 1)
        md.initialize(to: description.pointee)
        let bytes = dnnl_memory_desc_get_size(md)
        let data = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        let floats = data.bindMemory(to: Float.self, capacity: max(bytes / 4, 1))
        for i in 0..<bytes / 4 { floats[i] = rng.nextFloat(in: -1, 1) }
        allocations += [UnsafeMutableRawPointer(md), data]
        return DNNLOperand(md: md, data: data)
    }

    /// An operand for a buffer the caller binds before each use (`DNNLPrimitive.bind`): its description only.
    func placeholder(_ description: UnsafePointer<dnnl_memory_desc_t>) -> DNNLOperand {
        let md = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 1)
        md.initialize(to: description.pointee)
        let data = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        allocations += [UnsafeMutableRawPointer(md), data]
        return DNNLOperand(md: md, data: data)
    }

    deinit { for allocation in allocations { allocation.deallocate() } }
}

/// A primitive descriptor made from an operation descriptor, destroyed with this object.
final class DNNLPrimitiveDescriptor {
    let handle: dnnl_primitive_desc_t
    let implementation: String

    init(_ operation: inout dnnl_convolution_desc_t, engine: DNNLEngine, hint: DNNLPrimitiveDescriptor?) throws {
        var handle: dnnl_primitive_desc_t?
        try checkDNNL(withUnsafePointer(to: &operation) { dnnl_primitive_desc_create(&handle, $0, nil, engine.engine, hint?.handle) },
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
final class DNNLPrimitive {
    let engine: DNNLEngine
    let handle: dnnl_primitive_t
    var memories: [dnnl_memory_t] = []
    let arguments: [dnnl_exec_arg_t]

    init(_ descriptor: dnnl_primitive_desc_t, _ operands: [(Int32, DNNLOperand)], engine: DNNLEngine) throws {
        self.engine = engine
        var handle: dnnl_primitive_t?
        try checkDNNL(dnnl_primitive_create(&handle, descriptor), "primitive")
        self.handle = handle!
        var arguments: [dnnl_exec_arg_t] = []
        for (argument, operand) in operands {
            var memory: dnnl_memory_t?
            try checkDNNL(dnnl_memory_create(&memory, operand.md, engine.engine, operand.data), "memory")
            memories.append(memory!)
            arguments.append(dnnl_exec_arg_t(arg: argument, memory: memory))
        }
        self.arguments = arguments
    }

    deinit {
        for memory in memories { dnnl_memory_destroy(memory) }
        dnnl_primitive_destroy(handle)
    }

    /// Points the memory of `argument` (a `DNNL_ARG_...`) at `pointer`: operands that are the caller's buffers, call by call.
    func bind(_ argument: Int32, to pointer: UnsafeRawPointer) {
        guard let index = arguments.firstIndex(where: { $0.arg == argument }) else { preconditionFailure("no argument \(argument)") }
        dnnl_memory_set_data_handle(memories[index], UnsafeMutableRawPointer(mutating: pointer))
    }

    func execute(_ stream: dnnl_stream_t) throws {
        try checkDNNL(dnnl_primitive_execute(handle, stream, Int32(arguments.count), arguments), "execute")
        try checkDNNL(dnnl_stream_wait(stream), "stream wait")
    }
}

/// A plain f32 memory description of `dims` in layout `tag`.
func describeDNNL(_ dims: [Int], _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    try checkDNNL(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), dims.map(dnnl_dim_t.init), dnnl_f32, tag), "memory \(dims)")
    return md
}

func withOptionalDNNLPointer<T>(_ value: dnnl_memory_desc_t?, _ body: (UnsafePointer<dnnl_memory_desc_t>?) throws -> T) rethrows -> T {
    guard var value else { return try body(nil) }
    return try withUnsafePointer(to: &value) { try body($0) }
}

func checkDNNL(_ status: dnnl_status_t, _ what: String) throws {
    guard status == dnnl_success else { throw ModelError("oneDNN refused the convolution's \(what) (status \(status.rawValue))") }
}
