/// 2-D convolution as Keras's `Conv2D`: kernel `[KH, KW, C, filters]` (HWIO), bias `[filters]`.
/// Input `[N, H, W, C]` -> output `[N, OH, OW, filters]`, with TensorFlow's SAME/VALID rule.
///
/// Forward is im2col + one GEMM; backward is one GEMM for the kernel gradient (beta = 1)
/// and one GEMM + col2im for the input gradient.
public final class Conv2D: Layer {
    public let filters: Int
    public let kernelSize: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding
    public var kind: String { "conv2d" }

    private var geometry: WindowGeometry!
    private var kernel: UnsafeMutablePointer<Float>!, bias: UnsafeMutablePointer<Float>!
    private var kernelGradient: UnsafeMutablePointer<Float>!, biasGradient: UnsafeMutablePointer<Float>!
    private var columns = FloatBuffer(count: 0)           // [maxBatch * OH * OW, KH * KW * C]
    private var columnGradient = FloatBuffer(count: 0)    // same shape, for the input gradient; sized on the
                                                          // first backward, so inference-only models never hold it

    public init(filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid) {
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard filters > 0 else { throw ModelError("conv2d needs a positive number of filters, got \(filters)") }
        geometry = try WindowGeometry(inputShape: inputShape, kernel: kernelSize, strides: strides, padding: padding)
        return [geometry.outputHeight, geometry.outputWidth, filters]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("kernel", [kernelSize.0, kernelSize.1, geometry.channels, filters]), ("bias", [filters])]
    }

    public var forwardFLOPsPerSample: Int { 2 * geometry.outputPixels * geometry.patchSize * filters }

    /// The forward GEMM's `(m, n, k)` for a batch: `[batch * OH * OW, KH * KW * C] x [KH * KW * C, filters]`.
    public func forwardGEMMShape(batch: Int) -> (m: Int, n: Int, k: Int) {
        (batch * geometry.outputPixels, filters, geometry.patchSize)
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (kernel, bias) = (parameters[0], parameters[1])
        (kernelGradient, biasGradient) = (gradients[0], gradients[1])
    }

    public func reserve(maxBatch: Int) {
        let size = maxBatch * geometry.outputPixels * geometry.patchSize
        if columns.count < size { columns = FloatBuffer(count: size) }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let rows = batch * geometry.outputPixels
        im2col(input, columns.pointer, geometry, batch: batch)
        broadcastRows(bias, into: output, rows: rows, columns: filters)
        gemm(transposeA: false, transposeB: false, m: rows, n: filters, k: geometry.patchSize,
             columns.pointer, lda: geometry.patchSize, kernel, ldb: filters, beta: 1, output, ldc: filters)
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        let rows = batch * geometry.outputPixels
        // columns still hold im2col(input) from the forward pass.
        // dKernel[KH*KW*C, F] += columns^T [KH*KW*C, rows] * dOut [rows, F]
        gemm(transposeA: true, transposeB: false, m: geometry.patchSize, n: filters, k: rows,
             columns.pointer, lda: geometry.patchSize, outputGradient, ldb: filters, beta: 1, kernelGradient, ldc: filters)
        accumulateColumnSums(outputGradient, rows: rows, columns: filters, into: biasGradient)
        guard let inputGradient else { return }
        if columnGradient.count < columns.count { columnGradient = FloatBuffer(count: columns.count) }
        // dColumns[rows, KH*KW*C] = dOut [rows, F] * kernel^T [F, KH*KW*C]
        gemm(transposeA: false, transposeB: true, m: rows, n: geometry.patchSize, k: filters,
             outputGradient, lda: filters, kernel, ldb: filters, beta: 0, columnGradient.pointer, ldc: geometry.patchSize)
        col2im(columnGradient.pointer, inputGradient, geometry, batch: batch)
    }
}
