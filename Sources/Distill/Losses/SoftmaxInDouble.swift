import Foundation

/// One row's `softmax(z / temperature)` computed in Double from float32 logits (the row's largest
/// value subtracted first): what the Double-precision losses and the teachers' probability mean read.
func softmaxInDouble(_ z: UnsafePointer<Float>, temperature t: Double, into y: UnsafeMutablePointer<Double>, classes: Int) {
    var top = -Double.infinity
    for j in 0..<classes { top = max(top, Double(z[j]) / t) }
    var total = 0.0
    for j in 0..<classes { y[j] = exp(Double(z[j]) / t - top); total += y[j] }
    for j in 0..<classes { y[j] /= total }
}
