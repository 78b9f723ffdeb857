/// Keras's `SparseCategoricalAccuracy` as a count: samples whose argmax logit (first on ties)
/// equals the label. Counts, not ratios, so ranks can sum them.
public func correctCount(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int) -> Int {
    guard classes > 0 else { return 0 }
    var correct = 0
    for r in 0..<rows {
        let z = logits + r * classes
        var best = 0
        for c in 1..<classes where z[c] > z[best] { best = c }
        if best == Int(labels[r]) { correct += 1 }
    }
    return correct
}
