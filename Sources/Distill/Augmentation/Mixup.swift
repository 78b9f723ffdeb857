import Foundation
import NN

/// `mixup=A` (Zhang et al., ICLR 2018, "mixup: Beyond Empirical Risk Minimization"): a training image
/// `x_i` becomes `lambda x_i + (1 - lambda) x_j` and its cross-entropy `lambda CE(y_i) + (1 - lambda) CE(y_j)`,
/// `lambda ~ Beta(A, A)`. Both the partner `j` and lambda come from one keyed draw of the sample `i`, and `j`
/// is any sample of the training set: the paper's code pairs a batch with a permutation of itself, which would
/// tie the pairs to how the ranks split the batch.
public struct Mixup: Sendable {
    /// Beta's A: 0.2 is the paper's ImageNet value, 1 a uniform lambda.
    public let alpha: Double
    public var name: String { "mixup" }
    public init(alpha: Double) {
        precondition(alpha > 0, "mixup needs A > 0")
        self.alpha = alpha
    }

    /// The partner's index in `0..<count` (the training set) and lambda, the weight of the sample's own image, from its draw.
    public func pair(draw: UInt64, count: Int) -> (partner: Int, lambda: Float) {
        var generator = SeededGenerator(seed: draw)
        let partner = Int(generator.next() % UInt64(count))   // bias below count / 2^64: none that matters
        // Beta(A, A) = X / (X + Y) for X, Y ~ Gamma(A), as 1 / (1 + exp(log Y - log X)): for a small A both
        // gammas can underflow a float while their ratio is still well defined.
        let (logX, logY) = (logGamma(&generator), logGamma(&generator))
        return (partner, Float(1 / (1 + exp(logY - logX))))
    }

    /// log of a Gamma(A, 1) draw by Marsaglia and Tsang's squeeze-and-reject method ("A simple method for generating
    /// gamma variables", ACM TOMS 26(3), 2000), for A < 1 with their boost: Gamma(A) = Gamma(A + 1) * U^(1 / A).
    func logGamma(_ generator: inout SeededGenerator) -> Double {
        let a = alpha < 1 ? alpha + 1 : alpha
        let d = a - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        var logDraw = 0.0
        while true {
            let x = Self.normal(&generator)
            let v = 1 + c * x
            guard v > 0 else { continue }
            let cube = v * v * v, u = Self.uniform(&generator)
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - cube + log(cube)) {
                logDraw = log(d * cube)
                break
            }
        }
        return alpha < 1 ? logDraw + log(Self.uniform(&generator)) / alpha : logDraw
    }

    /// Uniform in (0, 1), 53 bits, never 0 (so its log is finite).
    static func uniform(_ generator: inout SeededGenerator) -> Double {
        (Double(generator.next() >> 11) + 0.5) / 9_007_199_254_740_992
    }

    /// A standard normal: Box and Muller's cosine half.
    static func normal(_ generator: inout SeededGenerator) -> Double {
        (-2 * log(uniform(&generator))).squareRoot() * cos(2 * Double.pi * uniform(&generator))
    }
}
