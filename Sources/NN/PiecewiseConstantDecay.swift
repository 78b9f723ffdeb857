/// Keras 3's `PiecewiseConstantDecay(boundaries, values)`: `values[0]` while `step <= boundaries[0]`,
/// `values[i]` while `boundaries[i - 1] < step <= boundaries[i]`, the last value after the last
/// boundary. Boundaries are step counts (optimizer iterations), increasing; one value more than boundaries.
public struct PiecewiseConstantDecay: LearningRateSchedule {
    public let boundaries: [Int]
    public let values: [Float]

    public init(boundaries: [Int], values: [Float]) {
        precondition(!boundaries.isEmpty && values.count == boundaries.count + 1 && zip(boundaries, boundaries.dropFirst()).allSatisfy { $0 < $1 },
                     "PiecewiseConstantDecay needs increasing boundaries and one value more")
        (self.boundaries, self.values) = (boundaries, values)
    }

    public func rate(_ iterations: Int) -> Float {
        values[boundaries.firstIndex { iterations <= $0 } ?? boundaries.count]
    }
}
