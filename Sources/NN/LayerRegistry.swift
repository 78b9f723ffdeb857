/// What one Keras layer becomes here: zero or more layers (Activation("linear") is none,
/// Conv2D with activation "relu" is two), and whether it ends in a softmax, which is kept out
/// of the logits the losses and distillation use (allowed only at the end of a model).
public struct BuiltLayer {
    public var layers: [Layer]
    public var endsInSoftmax = false
    /// Constraints on the first layer's parameters, by parameter name (Keras's `kernel_constraint`...).
    public var constraints: [String: WeightConstraint] = [:]
    /// Regularisers of the first layer's parameters, by parameter name (Keras's `kernel_regularizer`...).
    public var regularizers: [String: WeightRegularizer] = [:]

    public init(_ layers: [Layer], endsInSoftmax: Bool = false) {
        (self.layers, self.endsInSoftmax) = (layers, endsInSoftmax)
    }
}

/// A layer type that a Keras model description can name: its Keras class name and how to
/// build it from that layer's `config` (and the `context`: the GEMM backend, read only by the
/// layers that multiply). Each layer file registers its own type below.
public protocol KerasLayer {
    static var kerasClassName: String { get }
    /// Every class name the type is made for (a type may stand for several: `NumberOperation`).
    static var kerasClassNames: [String] { get }
    static func make(_ config: LayerConfig, context: LayerBuildContext) throws -> BuiltLayer
}

public extension KerasLayer {
    static var kerasClassNames: [String] { [kerasClassName] }
}

public enum LayerRegistry {
    /// Every layer type a model description may use, by Keras class name.
    public static let types: [KerasLayer.Type] = [
        Conv2D.self, Dense.self, LeakyReLU.self, ReLU.self, Activation.self, MaxPooling2D.self, AveragePooling2D.self,
        GlobalAveragePooling2D.self, Flatten.self, Dropout.self, RandomFlip.self, RandomTranslation.self, RandomZoom.self, RandomCrop.self, BatchNormalization.self, Add.self, Concatenate.self, Multiply.self,
        ZeroPadding2D.self, DepthwiseConv2D.self, SeparableConv2D.self, Rescaling.self, GlobalMaxPooling2D.self, Reshape.self,
        NumberOperation.self, Cropping2D.self, Normalization.self, LayerNormalization.self, LayerScale.self, CustomScaleLayer.self,
        ELU.self, PReLU.self, ElementwiseMerge.self, SpatialDropout2D.self, GaussianNoise.self, RMSNormalization.self, UnitNormalization.self,
        GroupNormalization.self, SoftmaxLayer.self, Identity.self, Permute.self,
    ]

    public static func type(named className: String) -> KerasLayer.Type? {
        types.first { $0.kerasClassNames.contains(className) }
    }

    public static var supportedNames: String { (["InputLayer"] + types.flatMap { $0.kerasClassNames }).joined(separator: ", ") }
}

/// The layers a Keras `activation` option adds after a layer, at Keras's default options: linear none,
/// relu a ReLU, leaky_relu one of slope 0.2, relu6 a ReLU capped at 6, elu, celu (alpha 1, so elu) and selu an `ELU`,
/// the others a `SmoothActivation`, softmax none but marked (kept out of the logits).
func activationLayers(_ config: LayerConfig, key: String = "activation") throws -> BuiltLayer {
    var smooth = Dictionary(uniqueKeysWithValues: SmoothActivation.Function.allCases.map { ($0.rawValue, $0) })
    (smooth["swish"], smooth["hard_swish"]) = (.silu, .hardSilu)
    let name = try config.choice(key, default: "linear",
                                 allowed: ["linear", "relu", "leaky_relu", "relu6", "elu", "celu", "selu", "softmax"] + smooth.keys.sorted())
    switch name {
    case "relu": return BuiltLayer([LeakyReLU(alpha: 0)])
    case "leaky_relu": return BuiltLayer([LeakyReLU(alpha: 0.2)])
    case "relu6": return BuiltLayer([ClippedReLU(maxValue: 6)])
    case "elu", "celu": return BuiltLayer([ELU()])
    case "selu": return BuiltLayer([ELU.selu()])
    case "softmax": return BuiltLayer([], endsInSoftmax: true)
    case "linear": return BuiltLayer([])
    default: return BuiltLayer([SmoothActivation(smooth[name]!)])
    }
}
