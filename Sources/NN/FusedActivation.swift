import CKernels

/// An activation that a `BatchNormalization` applies in its own loops (CKernels' batchnorm.c) when it is
/// the only reader of that layer's output: a `LeakyReLU` (ReLU is slope 0) or a `ClippedReLU` from 0 to a
/// cap without slope or threshold (ReLU6). Each element sees the operations of the layer it stands for,
/// so the bits are those of the two layers run apart; what goes is the activation-sized stream the
/// normalisation writes and the activation reads again, each way (the BatchNormalization + ReLU6 pairs of
/// the MobileNet-like student took two fifths of its step, each pass at about memory speed).
public enum FusedActivation: Equatable {
    case leaky(slope: Float)
    case capped(Float)

    /// The activation `layer` computes, when it is one of these.
    public init?(_ layer: Layer) {
        if let relu = layer as? LeakyReLU {
            self = .leaky(slope: relu.alpha)
        } else if let relu = layer as? ClippedReLU, relu.negativeSlope == 0, relu.threshold == 0, let cap = relu.maxValue {
            self = .capped(cap)
        } else {
            return nil
        }
    }

    /// The pairs to fuse, normalisation layer -> activation layer: a `BatchNormalization` that trains
    /// (not frozen) and an activation right after it in the layer order that alone reads it, when
    /// nothing else needs the normalisation's own output (an attached layer reading it, or `kept`).
    static func pairs(layers: [Layer], inputs: [[Int]], frozen: Set<Int>, kept: Set<Int>) -> [Int: Int] {
        var readers = [Int](repeating: 0, count: layers.count)
        for sources in inputs { for source in sources where source >= 0 { readers[source] += 1 } }
        var pairs: [Int: Int] = [:]
        for index in layers.indices.dropLast() where !frozen.contains(index) && !kept.contains(index) {
            guard let normalization = layers[index] as? BatchNormalization, !normalization.frozen else { continue }
            let next = index + 1
            if readers[index] == 1, inputs[next] == [index], FusedActivation(layers[next]) != nil { pairs[index] = next }
        }
        return pairs
    }

    /// The kernels' argument, with the normalisation's per-channel `scale` and `shift`; none for nil.
    static func argument(_ activation: FusedActivation?, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) -> distill_activation {
        switch activation {
        case .leaky(let slope)?: distill_activation(kind: DISTILL_ACTIVATION_LEAKY, slope: slope, cap: 0, scale: scale, shift: shift)
        case .capped(let cap)?: distill_activation(kind: DISTILL_ACTIVATION_CAPPED, slope: 0, cap: cap, scale: scale, shift: shift)
        case nil: distill_activation(kind: DISTILL_ACTIVATION_NONE, slope: 0, cap: 0, scale: scale, shift: shift)
        }
    }
}
