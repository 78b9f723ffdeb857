/// Keras's `PReLU` (He et al. 2015): a leaky ReLU whose negative slope is learnt, `y = x` for x > 0, else `alpha * x`,
/// computed as Keras does, `relu(x) - alpha * relu(-x)`. `alpha` has the input's per-sample shape, with the axes in
/// `shared_axes` (counted with the batch as 0) of size 1 and shared: `shared_axes=[1, 2]` gives one slope per channel.
/// Keras's default initializer is zeros (a plain ReLU at first).
///
/// Backward: `dx = dy` for x > 0, `alpha * dy` for x < 0, 0 at 0 (TensorFlow's ReLU gradient at 0 on both
/// branches); `dalpha += dy * x` over x < 0, summed over the batch and the shared axes.
public final class PReLU: Layer {
    /// Per sample, the axes (from 0) whose slope is shared.
    public let sharedAxes: Set<Int>
    public let alphaInitializer: Initializer
    public var kind: String { "p_re_lu" }
    private var size = 0
    private var alphaShape: [Int] = []
    private var alphaIndex: [Int32] = []   // [size]: element j of a sample uses alpha[alphaIndex[j]]
    private var alpha: UnsafeMutablePointer<Float>!, alphaGradient: UnsafeMutablePointer<Float>!

    public init(sharedAxes: Set<Int> = [], alphaInitializer: Initializer = .zeros) {
        (self.sharedAxes, self.alphaInitializer) = (sharedAxes, alphaInitializer)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        if let axis = sharedAxes.first(where: { $0 >= inputShape.count }) {
            throw ModelError("PReLU shares axis \(axis + 1), but its input \(inputShape) has axes 1...\(inputShape.count) (counting the batch as 0)")
        }
        size = elementCount(inputShape)
        alphaShape = inputShape.enumerated().map { sharedAxes.contains($0.offset) ? 1 : $0.element }
        alphaIndex = broadcastIndices(of: inputShape, reading: alphaShape)
        return inputShape
    }

    public var parameterShapes: [(name: String, shape: [Int])] { [("alpha", alphaShape)] }
    public func initializer(for parameter: String) -> Initializer { alphaInitializer }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        (alpha, alphaGradient) = (parameters[0], gradients[0])
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        for n in 0..<batch {
            let x = input + n * size, y = output + n * size
            for j in 0..<size { y[j] = x[j] > 0 ? x[j] : alpha[Int(alphaIndex[j])] * x[j] }
        }
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        for n in 0..<batch {
            let x = input + n * size, dy = outputGradient + n * size
            for j in 0..<size where x[j] < 0 { alphaGradient[Int(alphaIndex[j])] += dy[j] * x[j] }
            guard let dx = inputGradient.map({ $0 + n * size }) else { continue }
            for j in 0..<size { dx[j] = x[j] > 0 ? dy[j] : x[j] < 0 ? alpha[Int(alphaIndex[j])] * dy[j] : 0 }
        }
    }
}

extension PReLU: KerasLayer {
    public static let kerasClassName = "PReLU"

    /// `shared_axes`: null, one axis or a list of them, each counted with the batch as 0 (so from 1).
    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        try config.requireDefault("alpha_regularizer")
        try config.requireDefault("alpha_constraint")
        var shared: Set<Int> = []
        if let value = config["shared_axes"], value != .null {
            let items = value.array ?? [value]
            guard !items.isEmpty, items.allSatisfy({ ($0.int ?? 0) >= 1 && ($0.int ?? 0) <= 8 }) else {
                throw config.error("option shared_axes is \(value.text); expected null, or axes from 1 (the batch is 0)")
            }
            shared = Set(items.map { $0.int! - 1 })
        }
        return BuiltLayer([PReLU(sharedAxes: shared, alphaInitializer: try .named(in: config, "alpha_initializer", default: .zeros))])
    }
}
