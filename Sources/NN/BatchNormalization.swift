import CKernels
/// Keras's `BatchNormalization` over the last (channel) axis: `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`.
///
/// In training, `mean` and `var` (biased) are those of the global batch: each rank sums its samples
/// (`sum x`, `sum x^2`, count per channel) and one reduction adds the ranks' sums; backward needs
/// the global `sum dy` and `sum dy * xhat` and takes a second one (xhat is computed again from the
/// layer's input, in the forward pass's float operations, rather than stored). The moving statistics follow
/// Keras, `moving = moving * momentum + batch * (1 - momentum)`, and are used in inference. They
/// live in the model's parameter store as tensors no gradient reaches (their gradients stay zero,
/// so Adam leaves them where the forward pass puts them), so checkpoints and resumes carry them.
public final class BatchNormalization: Layer, ModeDependentLayer {
    public let momentum: Float, epsilon: Float
    public let center: Bool, scale: Bool
    /// Keras's `axis`, counting the batch as 0: -1, or the input's last (3 for images, 1 for vectors).
    public let axis: Int
    /// Keras's `trainable: false`: the layer always runs in inference mode (its moving statistics,
    /// which then never change), in training too, and its backward pass is that affine map's.
    public var frozen = false
    /// The activation after this layer that `Sequential` runs here (where it alone reads this output; never
    /// on a frozen layer): the forward pass writes the activation's output, the backward takes its output gradient.
    public internal(set) var fusedActivation: FusedActivation?
    public var kind: String { "batch_normalization" }

    private var channels = 0, size = 0
    private var gamma: UnsafeMutablePointer<Float>?, beta: UnsafeMutablePointer<Float>?
    private var gammaGradient: UnsafeMutablePointer<Float>?, betaGradient: UnsafeMutablePointer<Float>?
    private var movingMean: UnsafeMutablePointer<Float>!, movingVariance: UnsafeMutablePointer<Float>!
    private var reducer: BatchReducer?
    private var batchMean = FloatBuffer(count: 0)             // [C]: the mean of the last forward's batch (or the moving mean)
    private var inverseDeviation = FloatBuffer(count: 0)      // [C]: 1 / sqrt(var + epsilon) of that batch
    private var sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)  // [2C + 1]: reduction buffer
    private var meanGradients = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)  // [C]: sum(dy) / N
    private var perChannel = FloatBuffer(count: 0)   // [3C]: gamma / sigma (backward), gamma or 1, beta or 0

    public init(momentum: Float = 0.99, epsilon: Float = 0.001, center: Bool = true, scale: Bool = true, axis: Int = -1) {
        (self.momentum, self.epsilon, self.center, self.scale, self.axis) = (momentum, epsilon, center, scale, axis)
    }

    deinit { sums.deallocate(); meanGradients.deallocate() }

    public func build(inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else { throw ModelError("batch normalization needs an input with channels, got \(inputShape)") }
        guard axis == -1 || axis == inputShape.count else {
            throw ModelError("option axis is \(axis), but the channel axis of an input of shape \(inputShape) is \(inputShape.count) "
                + "(counting the batch as 0) or -1; only the channel axis is supported")
        }
        guard (0...1).contains(momentum), epsilon > 0 else {
            throw ModelError("batch normalization needs momentum in [0, 1] and epsilon > 0, got \(momentum), \(epsilon)")
        }
        (channels, size) = (last, elementCount(inputShape))
        sums.deallocate()
        sums = .allocate(capacity: 2 * channels + 1)
        meanGradients.deallocate()
        meanGradients = .allocate(capacity: channels)
        perChannel = FloatBuffer(count: 3 * channels)
        inverseDeviation = FloatBuffer(count: channels)
        batchMean = FloatBuffer(count: channels)
        return inputShape
    }

    public var nonTrainableParameters: Set<String> { ["moving_mean", "moving_variance"] }

    /// Keras's order and names: gamma, beta (when scaled and centred), then the moving statistics.
    public var parameterShapes: [(name: String, shape: [Int])] {
        (scale ? [("gamma", [channels])] : []) + (center ? [("beta", [channels])] : [])
            + [("moving_mean", [channels]), ("moving_variance", [channels])]
    }

    public func initializer(for parameter: String) -> Initializer {
        parameter == "gamma" || parameter == "moving_variance" ? .ones : .zeros
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        var next = 0
        if scale { (gamma, gammaGradient, next) = (parameters[next], gradients[next], next + 1) }
        if center { (beta, betaGradient, next) = (parameters[next], gradients[next], next + 1) }
        (movingMean, movingVariance) = (parameters[next], parameters[next + 1])
    }

    /// Training mode is a pass with a reducer; a frozen layer has none.
    public func begin(_ pass: TrainingPass?, layer index: Int) { reducer = frozen ? nil : pass?.reducer }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let rows = batch * (size / channels), c = channels, inverse = inverseDeviation.pointer, mean = batchMean.pointer
        let (scale, shift) = (perChannel.pointer + c, perChannel.pointer + 2 * c)
        for ch in 0..<c { (scale[ch], shift[ch]) = (gamma?[ch] ?? 1, beta?[ch] ?? 0) }
        let activation = FusedActivation.argument(fusedActivation, scale: scale, shift: shift)
        guard let reducer else {
            // Inference: the moving statistics.
            for ch in 0..<c { (inverse[ch], mean[ch]) = (1 / (movingVariance[ch] + epsilon).squareRoot(), movingMean[ch]) }
            distill_batchnorm_normalize(input, rows, Int32(c), mean, inverse, activation, output)
            return
        }
        let (sum, squares) = (sums.baseAddress!, sums.baseAddress! + c)
        sums.update(repeating: 0)
        distill_batchnorm_sums(input, rows, Int32(c), sum, squares)
        sums[2 * c] = Double(rows)
        reducer.sum(sums)
        let count = max(sums[2 * c], 1)
        for ch in 0..<c {
            let batchMean = sum[ch] / count
            let variance = max(squares[ch] / count - batchMean * batchMean, 0)
            inverse[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
            mean[ch] = Float(batchMean)
            movingMean[ch] = movingMean[ch] * momentum + Float(batchMean) * (1 - momentum)
            movingVariance[ch] = movingVariance[ch] * momentum + Float(variance) * (1 - momentum)
        }
        distill_batchnorm_normalize(input, rows, Int32(c), mean, inverse, activation, output)
    }

    /// Training-mode backward:
    /// `dx = gamma / sigma * (dy - sum(dy) / N - xhat * sum(dy * xhat) / N)`, sums over the global batch.
    /// After an inference-mode forward (a frozen layer) it is the affine map's: `dx = gamma / sigma * dy`.
    /// With a fused activation, `outputGradient` is the activation's and dy is taken through its gradient.
    /// The loops (CKernels' batchnorm.c, AVX-512 or AVX2 where the CPU has them) run over a row's
    /// contiguous channels with every per-channel value hoisted; each element sees the same
    /// operations in the same order as the formula.
    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard reducer != nil else {
            precondition(fusedActivation == nil, "a frozen BatchNormalization is never fused")
            return inferenceBackward(outputGradient: outputGradient, inputGradient: inputGradient, input: input, batch: batch)
        }
        let rows = batch * (size / channels), c = channels, (mean, inverse) = (batchMean.pointer, inverseDeviation.pointer)
        let (sum, products) = (sums.baseAddress!, sums.baseAddress! + c)
        let activation = FusedActivation.argument(fusedActivation, scale: perChannel.pointer + c, shift: perChannel.pointer + 2 * c)
        sums.update(repeating: 0)
        distill_batchnorm_gradient_sums(outputGradient, input, rows, Int32(c), mean, inverse, activation, sum, products)
        // This rank's parameter gradients; the step's gradient allreduce adds the other ranks'.
        for ch in 0..<c {
            betaGradient?[ch] += Float(sum[ch])
            gammaGradient?[ch] += Float(products[ch])
        }
        guard let inputGradient else { return }
        sums[2 * c] = Double(rows)
        reducer?.sum(sums)
        let count = max(sums[2 * c], 1)
        let (meanGradient, factor) = (meanGradients.baseAddress!, perChannel.pointer)   // factor: gamma / sigma
        for ch in 0..<c { (meanGradient[ch], factor[ch]) = (sum[ch] / count, perChannel.pointer[c + ch] * inverse[ch]) }
        distill_batchnorm_input_gradient(outputGradient, input, rows, Int32(c), mean, inverse, activation, meanGradient, products, count, factor,
                                         inputGradient)
    }

    /// `y = gamma * (x - moving_mean) / sigma + beta` with fixed statistics: `dbeta = sum(dy)`,
    /// `dgamma = sum(dy * xhat)`, `dx = gamma / sigma * dy`, every sum this rank's.
    private func inferenceBackward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                                   input: UnsafePointer<Float>, batch: Int) {
        let rows = batch * (size / channels), c = channels, inverse = inverseDeviation.pointer
        for r in 0..<rows {
            for ch in 0..<c {
                let i = r * c + ch, dy = outputGradient[i]
                betaGradient?[ch] += dy
                gammaGradient?[ch] += dy * (input[i] - movingMean[ch]) * inverse[ch]
                inputGradient?[i] = (gamma?[ch] ?? 1) * inverse[ch] * dy
            }
        }
    }
}

extension BatchNormalization: KerasLayer {
    public static let kerasClassName = "BatchNormalization"

    /// The channel axis only (-1, Keras's default, or its number, as ResNet50V2 writes 3); Keras's default initialisers.
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let axis = try config.lastAxis() ?? -1
        try config.requireDefault("renorm", .bool(false))
        // Statistics here are always the global batch's (synchronized, whatever the flag says: on one
        // device Keras computes the same); the renorm settings matter only with renorm on.
        config.ignore("synchronized", "renorm_clipping", "renorm_momentum")
        for (key, initializer) in [("gamma_initializer", "Ones"), ("beta_initializer", "Zeros"), ("moving_mean_initializer", "Zeros"),
                                   ("moving_variance_initializer", "Ones")] {
            try config.requireInitializer(key, [initializer])
        }
        return BuiltLayer([BatchNormalization(
            momentum: try config.float("momentum", default: 0.99, range: 0...1),
            epsilon: try config.float("epsilon", default: 0.001, range: 1e-12...1),
            center: try config.bool("center", default: true), scale: try config.bool("scale", default: true),
            axis: axis)])
    }
}
