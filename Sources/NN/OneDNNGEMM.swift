import CDNNL

/// oneDNN's matmul primitive (Debian's libdnnl 2.6), which dispatches on the CPU's features
/// (AVX-512 where there is one). One primitive per shape, made once (`prepare`, or the first
/// `multiply` of a shape) with a user-managed scratchpad shared by all of them; `multiply` only
/// points the primitive's memory objects at the operands and executes it. The matmul's results
/// do not vary between runs for a given shape and thread count.
///
/// oneDNN 2.6.3's `dnnl_primitive_execute` itself allocates a few small blocks per call (measured:
/// a constant count per step); nothing here allocates once a shape is planned.
public final class OneDNNGEMM: GEMMBackend {
    public var name: String { "onednn" }

    private let engine: dnnl_engine_t
    private let stream: dnnl_stream_t
    private var plans: [GEMMShape: MatmulPlan] = [:]
    private var scratchpad = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    private var scratchpadBytes = 64

    public init() throws {
        var engine: dnnl_engine_t?
        var stream: dnnl_stream_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else {
            throw ModelError("oneDNN could not create a CPU engine; try --gemm openblas")
        }
        guard dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)) == dnnl_success, let stream else {
            dnnl_engine_destroy(engine)
            throw ModelError("oneDNN could not create a CPU stream; try --gemm openblas")
        }
        (self.engine, self.stream) = (engine, stream)
    }

    deinit {
        plans.removeAll()   // plans release their primitives before the engine goes
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
        scratchpad.deallocate()
    }

    public var implementation: String {
        let version = dnnl_version().pointee
        let probe = GEMMShape.plain(m: 256, n: 256, k: 256)
        let matmul = plans[probe]?.implementation ?? MatmulPlan(probe, engine: engine).implementation
        return "oneDNN \(version.major).\(version.minor).\(version.patch), \(isaName(dnnl_get_effective_cpu_isa())), matmul \(matmul)"
    }

    public func setThreads(_ count: Int) { Self.setLibraryThreads(count) }

    static func setLibraryThreads(_ count: Int) { _ = distill_omp_set_num_threads(Int32(clamping: Swift.max(1, count))) }

    public func prepare(_ shape: GEMMShape) { _ = plan(shape) }

    public func implementation(of shape: GEMMShape) -> String { plans[shape]?.implementation ?? "" }

    public func multiply(_ s: GEMMShape, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        guard !s.isEmpty else { return }
        guard s.k > 0 else {   // an empty sum: oneDNN takes no zero-sized reduction
            if !s.accumulate { for row in 0..<s.m { (c + row * s.ldc).update(repeating: 0, count: s.n) } }
            return
        }
        plan(s).execute(a: a, b: b, c: c, scratchpad: scratchpad, stream: stream)
    }

    private func plan(_ shape: GEMMShape) -> MatmulPlan {
        if let plan = plans[shape] { return plan }
        let plan = MatmulPlan(shape, engine: engine)
        plans[shape] = plan
        if plan.scratchpadBytes > scratchpadBytes {
            scratchpad.deallocate()
            scratchpadBytes = plan.scratchpadBytes
            scratchpad = .allocate(byteCount: scratchpadBytes, alignment: 64)
        }
        return plan
    }
}

/// One matmul primitive and the memory objects it executes on (their data pointers set per call).
private final class MatmulPlan {
    let primitive: dnnl_primitive_t
    let memories: [dnnl_memory_t]           // A, B, C, scratchpad
    let arguments: UnsafeMutablePointer<dnnl_exec_arg_t>
    let scratchpadBytes: Int
    let implementation: String

    /// A failure here is a shape oneDNN cannot multiply, which the layers never ask for.
    init(_ s: GEMMShape, engine: dnnl_engine_t) {
        precondition(s.m > 0 && s.n > 0 && s.k > 0, "oneDNN matmul of empty shape \(s)")
        // Strides in elements: a transposed operand is read column-wise from its stored rows.
        var a = dnnl_memory_desc_t(), b = dnnl_memory_desc_t(), c = dnnl_memory_desc_t()
        check(describe(&a, rows: s.m, columns: s.k, leading: s.lda, transposed: s.transposeA), "A of \(s)")
        check(describe(&b, rows: s.k, columns: s.n, leading: s.ldb, transposed: s.transposeB), "B of \(s)")
        check(describe(&c, rows: s.m, columns: s.n, leading: s.ldc, transposed: false), "C of \(s)")
        var desc = dnnl_matmul_desc_t()
        check(dnnl_matmul_desc_init(&desc, &a, &b, nil, &c), "matmul \(s)")

        var attributes: dnnl_primitive_attr_t?
        check(dnnl_primitive_attr_create(&attributes), "attributes")
        defer { dnnl_primitive_attr_destroy(attributes) }
        check(dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user), "scratchpad mode")
        if s.accumulate {   // C += A * B is a sum post-op with scale 1
            var postOps: dnnl_post_ops_t?
            check(dnnl_post_ops_create(&postOps), "post-ops")
            defer { dnnl_post_ops_destroy(postOps) }
            check(dnnl_post_ops_append_sum(postOps, 1), "sum post-op")
            check(dnnl_primitive_attr_set_post_ops(attributes, postOps), "post-ops")
        }
        var pd: dnnl_primitive_desc_t?
        check(withUnsafePointer(to: &desc) { dnnl_primitive_desc_create(&pd, $0, attributes, engine, nil) }, "matmul \(s)")
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        implementation = name.map { String(cString: $0) } ?? "?"
        let scratch = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!
        scratchpadBytes = dnnl_memory_desc_get_size(scratch)
        var primitive: dnnl_primitive_t?
        check(dnnl_primitive_create(&primitive, pd), "matmul primitive \(s)")
        self.primitive = primitive!

        func memory(_ md: UnsafePointer<dnnl_memory_desc_t>) -> dnnl_memory_t {
            var memory: dnnl_memory_t?
            check(dnnl_memory_create(&memory, md, engine, distill_dnnl_memory_none()), "memory of \(s)")
            return memory!
        }
        memories = [memory(&a), memory(&b), memory(&c), memory(scratch)]
        arguments = .allocate(capacity: 4)
        for (i, arg) in [DNNL_ARG_SRC_0, DNNL_ARG_WEIGHTS_0, DNNL_ARG_DST_0, DNNL_ARG_SCRATCHPAD].enumerated() {
            arguments[i] = dnnl_exec_arg_t(arg: Int32(arg), memory: memories[i])
        }
    }

    deinit {
        for memory in memories { dnnl_memory_destroy(memory) }
        dnnl_primitive_destroy(primitive)
        arguments.deallocate()
    }

    func execute(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                 scratchpad: UnsafeMutableRawPointer, stream: dnnl_stream_t) {
        dnnl_memory_set_data_handle(memories[0], UnsafeMutableRawPointer(mutating: a))
        dnnl_memory_set_data_handle(memories[1], UnsafeMutableRawPointer(mutating: b))
        dnnl_memory_set_data_handle(memories[2], c)
        dnnl_memory_set_data_handle(memories[3], scratchpad)
        check(dnnl_primitive_execute(primitive, stream, 4, arguments), "matmul")
        check(dnnl_stream_wait(stream), "stream wait")
    }
}

/// A row-major `[rows, columns]` matrix stored with leading dimension `leading`, or its transpose.
private func describe(_ md: inout dnnl_memory_desc_t, rows: Int, columns: Int, leading: Int, transposed: Bool) -> dnnl_status_t {
    let dims: [dnnl_dim_t] = [dnnl_dim_t(rows), dnnl_dim_t(columns)]
    let strides: [dnnl_dim_t] = transposed ? [1, dnnl_dim_t(leading)] : [dnnl_dim_t(leading), 1]
    return dnnl_memory_desc_init_by_strides(&md, 2, dims, dnnl_f32, strides)
}

private func check(_ status: dnnl_status_t, _ what: String) {
    precondition(status == dnnl_success, "oneDNN failed (status \(status.rawValue)) on \(what)")
}

private func isaName(_ isa: dnnl_cpu_isa_t) -> String {
    switch isa {
    case dnnl_cpu_isa_sse41: return "sse41"
    case dnnl_cpu_isa_avx: return "avx"
    case dnnl_cpu_isa_avx2: return "avx2"
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
    case dnnl_cpu_isa_avx512_core: return "avx512_core"
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
    default: return "isa 0x\(String(isa.rawValue, radix: 16))"
    }
}
