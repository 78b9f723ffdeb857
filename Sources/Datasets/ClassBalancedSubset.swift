/// A seeded, class-balanced part of a training set, for training in the low-data regime: from each
/// class, `fraction` of its samples (rounded, at least one), chosen by `epochPermutation` of the
/// class's samples, so every rank given the same seed picks the same ones. Returns the chosen
/// sample ids in increasing order (the teacher's logits stay indexed by these original ids).
public func classBalancedSubset<G: RandomNumberGenerator>(labels: [Int32], classes: Int, fraction: Double,
                                                          using rng: inout G) -> [Int] {
    precondition(fraction > 0 && fraction <= 1, "classBalancedSubset(fraction: \(fraction))")
    var members = [[Int]](repeating: [], count: max(classes, 0))
    for (id, label) in labels.enumerated() where Int(label) < members.count { members[Int(label)].append(id) }
    var chosen: [Int] = []
    for ids in members where !ids.isEmpty {
        let take = max(1, Int((fraction * Double(ids.count)).rounded()))
        let order = epochPermutation(count: ids.count, using: &rng)
        chosen += order.prefix(take).map { ids[$0] }
    }
    return chosen.sorted()
}

extension LabeledImages {
    /// The samples at `ids`, in that order; the data set's class count is kept.
    public func subset(_ ids: [Int]) -> LabeledImages {
        guard !ids.isEmpty else {
            return LabeledImages(images: [], labels: [], height: height, width: width, channels: channels, classes: classes)
        }
        var pixels = [Float](repeating: 0, count: ids.count * sampleSize)
        var picked = [Int32](repeating: 0, count: ids.count)
        pixels.withUnsafeMutableBufferPointer { out in
            picked.withUnsafeMutableBufferPointer { gather(ids[...], images: out.baseAddress!, labels: $0.baseAddress!) }
        }
        return LabeledImages(images: pixels, labels: picked, height: height, width: width, channels: channels, classes: classes)
    }
}
