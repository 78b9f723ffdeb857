/// The per-channel scale and shift a normalisation ends with, `y = xhat * gamma + beta`: Keras's `gamma` when
/// `scale`, `beta` when `center`, their parameter shapes in Keras's order and names, and their slices once bound.
struct ChannelAffine {
    let center: Bool, scale: Bool
    private(set) var gamma: UnsafeMutablePointer<Float>?, beta: UnsafeMutablePointer<Float>?
    private(set) var gammaGradient: UnsafeMutablePointer<Float>?, betaGradient: UnsafeMutablePointer<Float>?

    init(center: Bool, scale: Bool) { (self.center, self.scale) = (center, scale) }

    /// gamma (when scaled), then beta (when centred), each `[channels]`.
    func parameterShapes(channels: Int) -> [(name: String, shape: [Int])] {
        (scale ? [("gamma", [channels])] : []) + (center ? [("beta", [channels])] : [])
    }

    /// Binds gamma, then beta, from the slices `parameters[first...]`; returns the index after them.
    @discardableResult
    mutating func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>], from first: Int = 0) -> Int {
        var next = first
        if scale { (gamma, gammaGradient, next) = (parameters[next], gradients[next], next + 1) }
        if center { (beta, betaGradient, next) = (parameters[next], gradients[next], next + 1) }
        return next
    }
}
