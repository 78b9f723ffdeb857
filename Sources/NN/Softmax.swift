import Foundation

/// `probabilities[r, :] = softmax(logits[r, :] / temperature)` for `rows` rows of `classes`,
/// computed stably (the row maximum is subtracted first).
public func softmax(
    _ logits: UnsafePointer<Float>, temperature: Float = 1, into probabilities: UnsafeMutablePointer<Float>,
    rows: Int, classes: Int
) {
    for r in 0..<rows {
        let z = logits + r * classes, p = probabilities + r * classes
        var maximum = -Float.infinity
        for c in 0..<classes { maximum = Swift.max(maximum, z[c]) }
        var sum: Float = 0
        for c in 0..<classes {
            p[c] = expf((z[c] - maximum) / temperature)
            sum += p[c]
        }
        for c in 0..<classes { p[c] /= sum }
    }
}
