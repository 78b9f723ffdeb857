/// Keras's `SparseCategoricalAccuracy` as a count: samples whose argmax logit (first on ties)
/// equals the label. Counts, not ratios, so ranks can sum them.
public func correctCount(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int) -> Int {
    guard classes > 0 else { return 0 }
    var correct = 0
    for r in 0..<rows where predictedClass(logits + r * classes, classes: classes) == Int(labels[r]) { correct += 1 }
    return correct
}

/// With MixUp's labels, each row counted against the label of the larger weight: its own when lambda >= 1/2,
/// else its partner's. `mix` nil is the plain count.
public func correctCount(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, mix: LabelMix?, rows: Int, classes: Int) -> Int {
    guard let mix else { return correctCount(logits: logits, labels: labels, rows: rows, classes: classes) }
    guard classes > 0 else { return 0 }
    var correct = 0
    for r in 0..<rows {
        let label = mix.weights[r] >= 0.5 ? labels[r] : mix.partners[r]
        if predictedClass(logits + r * classes, classes: classes) == Int(label) { correct += 1 }
    }
    return correct
}

/// The argmax of one row of `classes` logits, the first on ties.
@inline(__always)
public func predictedClass(_ z: UnsafePointer<Float>, classes: Int) -> Int {
    var best = 0
    for c in 1..<classes where z[c] > z[best] { best = c }
    return best
}
