import Datasets
import Foundation
import TestSupport

/// The committed MNIST subset (4000 training, 1000 test samples), loaded once.
enum Fixture {
    static let directory = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    static let train = try! MNISTLoader.load(directory: directory, split: .train)
    static let test = try! MNISTLoader.load(directory: directory, split: .test)

    /// The first `count` training samples.
    static func trainPrefix(_ count: Int) -> LabeledImages {
        LabeledImages(images: Array(train.images[..<(count * train.sampleSize)]), labels: Array(train.labels[..<count]),
                      height: train.height, width: train.width)
    }
}
