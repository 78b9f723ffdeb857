/// A uniformly random permutation of `0..<count` by Fisher-Yates.
///
/// Deterministic for a deterministic generator: the draws are `rng.next()` values fed to
/// `boundedRandom`, in a fixed order, so every rank given the same seed gets the same order
/// (unlike `Array.shuffled`, whose algorithm is not specified).
public func epochPermutation<G: RandomNumberGenerator>(count: Int, using rng: inout G) -> [Int] {
    precondition(count >= 0, "epochPermutation(count: \(count))")
    var order = Array(0..<count)
    var i = count - 1
    while i > 0 {
        let j = Int(boundedRandom(UInt64(i + 1), using: &rng))
        order.swapAt(i, j)
        i -= 1
    }
    return order
}

/// A uniform draw from `0..<bound` (`bound > 0`) by Lemire's multiply-and-reject method:
/// the high word of `x * bound`, redrawing when the low word falls in the biased zone.
func boundedRandom<G: RandomNumberGenerator>(_ bound: UInt64, using rng: inout G) -> UInt64 {
    precondition(bound > 0)
    var product = rng.next().multipliedFullWidth(by: bound)
    if product.low < bound {
        let threshold = (0 &- bound) % bound  // 2^64 mod bound
        while product.low < threshold {
            product = rng.next().multipliedFullWidth(by: bound)
        }
    }
    return product.high
}
