import Collective
import Datasets

/// Every rank must hold the same data, or batch schedules and gather counts would differ and the
/// job would hang. One allreduce of per-rank checksums and their squares tells every rank alike:
/// `size * sum(x^2) == sum(x)^2` holds exactly when all ranks' `x` are equal.
public func checkSameDataOnEveryRank(_ datasets: [LabeledImages], communicator: Communicator) throws {
    guard communicator.size > 1 else { return }
    var values: [Double] = []
    for data in datasets {
        var pixels: UInt64 = 0
        data.images.withUnsafeBufferPointer { images in
            for i in stride(from: 0, to: images.count, by: 97) { pixels = (pixels &* 31 &+ UInt64(images[i] * 255)) & 0xFFFFF }
        }
        values += [Double(data.count), Double(data.labels.reduce(0) { $0 + Int($1) }), Double(pixels)]
    }
    var sums = values + values.map { $0 * $0 }
    communicator.allreduceSum(&sums)
    let size = Double(communicator.size), n = values.count
    for i in 0..<n where size * sums[n + i] != sums[i] * sums[i] {
        throw TrainingError("the ranks loaded different data (sample counts, labels or images differ); "
            + "give every node the same files at the same path")
    }
}
