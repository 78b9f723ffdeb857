/// Fully connected layer as Keras's `Dense` (no activation): kernel `[in, units]`, bias `[units]`.
/// Input `[N, in]` -> output `[N, units]`.
public final class Dense: Layer {
    public let units: Int
    public var kind: String { "dense" }

    private var inputCount = 0
    private var kernel: UnsafeMutablePointer<Float>!, bias: UnsafeMutablePointer<Float>!
    private var kernelGradient: UnsafeMutablePointer<Float>!, biasGradient: UnsafeMutablePointer<Float>!

    public init(units: Int) { self.units = units }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 1 else { throw ModelError("dense needs a flat [features] input, got \(inputShape); add Flatten") }
        guard units > 0 else { throw ModelError("dense needs a positive number of units, got \(units)") }
        inputCount = inputShape[0]
        return [units]
    }

    public var parameterShapes: [(name: String, shape: [Int])] { [("kernel", [inputCount, units]), ("bias", [units])] }

    public var forwardFLOPsPerSample: Int { 2 * inputCount * units }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (kernel, bias) = (parameters[0], parameters[1])
        (kernelGradient, biasGradient) = (gradients[0], gradients[1])
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        broadcastRows(bias, into: output, rows: batch, columns: units)
        gemm(transposeA: false, transposeB: false, m: batch, n: units, k: inputCount,
             input, lda: inputCount, kernel, ldb: units, beta: 1, output, ldc: units)
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        // dKernel[in, units] += input^T [in, N] * dOut [N, units]
        gemm(transposeA: true, transposeB: false, m: inputCount, n: units, k: batch,
             input, lda: inputCount, outputGradient, ldb: units, beta: 1, kernelGradient, ldc: units)
        accumulateColumnSums(outputGradient, rows: batch, columns: units, into: biasGradient)
        guard let inputGradient else { return }
        // dInput[N, in] = dOut [N, units] * kernel^T [units, in]
        gemm(transposeA: false, transposeB: true, m: batch, n: inputCount, k: units,
             outputGradient, lda: units, kernel, ldb: units, beta: 0, inputGradient, ldc: inputCount)
    }
}
