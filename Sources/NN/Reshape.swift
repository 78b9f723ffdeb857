/// Keras's `Reshape`: the same values in the same (NHWC, row-major) order under a new per-sample
/// shape, `target_shape` of one to four dimensions (four for a ShuffleNet's channel shuffle, `[H, W, G, C/G]`), at
/// most one of them -1 (inferred). The image layers refuse any rank but three.
public final class Reshape: Layer {
    public let targetShape: [Int]
    public var kind: String { "reshape" }
    private var size = 0

    public init(targetShape: [Int]) { self.targetShape = targetShape }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        // The known dimensions' product, stopped once it exceeds the input (four of up to 2^24 overflow Int).
        let known = targetShape.filter { $0 != -1 }.reduce(1) { $0 > size ? $0 : $0 * $1 }
        let unknown = targetShape.filter { $0 == -1 }.count
        guard unknown == 0 ? known == size : (unknown == 1 && known > 0 && known <= size && size % known == 0) else {
            throw ModelError("reshape to \(targetShape) does not fit an input of shape \(inputShape) (\(size) values)")
        }
        return targetShape.map { $0 == -1 ? size / known : $0 }
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        output.update(from: input, count: batch * size)
    }

    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        inputGradient?.update(from: outputGradient, count: batch * size)
    }
}

extension Reshape: KerasLayer {
    public static let kerasClassName = "Reshape"

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        let value = config["target_shape"]
        let shape = value?.array?.compactMap(\.int) ?? []
        guard (1...4).contains(shape.count), shape.count == value?.array?.count,
              shape.allSatisfy({ $0 == -1 || (1...(1 << 24)).contains($0) }), shape.filter({ $0 == -1 }).count <= 1 else {
            throw config.error("option target_shape is \(value?.text ?? "missing"); expected one to four positive integers, at most one -1")
        }
        return BuiltLayer([Reshape(targetShape: shape)])
    }
}
