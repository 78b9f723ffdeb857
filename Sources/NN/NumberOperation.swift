/// A Keras 3 operation between a tensor and a number, as a functional model records Python arithmetic on a
/// Keras tensor: `x + 3.0` and `x * (1 / 6)` in MobileNetV3's hard sigmoid (`keras.ops.add`, `keras.ops.multiply`),
/// `x - c` or `c - x` (`keras.ops.subtract`), `x / c` (`keras.ops.true_divide`). Elementwise in Float32, as Keras
/// (the number rounded to Float32 first), so the output's bits are Keras's. Like `Rescaling`, one that reads the
/// model's input sees the raw pixel values 0-255 (`inputs / 255.0` is the usual first operation): the loader
/// gives pixels as `b / 255`, so such a layer multiplies by 255 first.
public final class NumberOperation: Layer {
    public enum Operation: String, CaseIterable, Sendable {
        case add, subtract, multiply, trueDivide = "true_divide"

        /// The class name `to_json()` gives the call (module keras.src.ops.numpy): "Add", ..., "TrueDivide".
        public var recordedClassName: String {
            rawValue.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
    }
    public let operation: Operation, number: Float, numberFirst: Bool, inputScale: Float
    public var kind: String { "number_operation" }
    private var size = 0

    /// `numberFirst`: `number - x` for subtract (add and multiply commute; a number divided by a tensor is refused
    /// by `make`). `inputScale`: 255 for a layer reading the pixels, else 1 (an exact product).
    public init(_ operation: Operation, number: Float, numberFirst: Bool = false, inputScale: Float = 1) {
        (self.operation, self.number, self.numberFirst, self.inputScale) = (operation, number, numberFirst, inputScale)
    }

    public func build(inputShape: [Int]) throws -> [Int] {
        size = elementCount(inputShape)
        return inputShape
    }

    public func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
        let (c, s) = (number, inputScale)
        switch (operation, numberFirst) {
        case (.add, false): for i in 0..<batch * size { output[i] = input[i] * s + c }
        case (.add, true): for i in 0..<batch * size { output[i] = c + input[i] * s }
        case (.subtract, false): for i in 0..<batch * size { output[i] = input[i] * s - c }
        case (.subtract, true): for i in 0..<batch * size { output[i] = c - input[i] * s }
        case (.multiply, _): for i in 0..<batch * size { output[i] = input[i] * s * c }
        case (.trueDivide, _): for i in 0..<batch * size { output[i] = input[i] * s / c }
        }
    }

    /// d(output)/d(input): the scale times 1, -1 (number first, subtract), the number, or one over it.
    public func backward(
        outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int
    ) {
        guard let inputGradient else { return }
        let (c, s) = (number, inputScale)
        switch (operation, numberFirst) {
        case (.add, _): for i in 0..<batch * size { inputGradient[i] = outputGradient[i] * s }
        case (.subtract, false): for i in 0..<batch * size { inputGradient[i] = outputGradient[i] * s }
        case (.subtract, true): for i in 0..<batch * size { inputGradient[i] = -(outputGradient[i] * s) }
        case (.multiply, _): for i in 0..<batch * size { inputGradient[i] = outputGradient[i] * c * s }
        case (.trueDivide, _): for i in 0..<batch * size { inputGradient[i] = outputGradient[i] / c * s }
        }
    }
}

extension NumberOperation: KerasLayer {
    /// The names `FunctionalGraph` gives these calls: Keras's public `keras.ops` function names.
    public static let kerasClassNames = Operation.allCases.map { "keras.ops.\($0.rawValue)" }
    public static let kerasClassName = kerasClassNames[0]

    public static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer {
        guard let operation = Operation(rawValue: String(config.className.dropFirst("keras.ops.".count))) else {
            throw config.error("not a Keras operation with a number; supported: \(kerasClassNames.joined(separator: ", "))")
        }
        guard config["number"] != nil else { throw config.error("option number is missing") }
        let number = try config.float("number", default: 0, range: -1e30...1e30)
        let numberFirst = try config.bool("number_first", default: false)
        if operation == .trueDivide, numberFirst { throw config.error("a number divided by a tensor is not supported") }
        if operation == .trueDivide, number == 0 { throw config.error("divides by zero") }
        return BuiltLayer([NumberOperation(operation, number: number, numberFirst: numberFirst, inputScale: context.readsPixels ? 255 : 1)])
    }
}
