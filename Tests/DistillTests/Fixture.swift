import Datasets
import Foundation
import NN
import TestSupport

/// The committed MNIST subset (4000 training, 1000 test samples), loaded once.
enum Fixture {
    static let directory = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    static let train = try! IDXLoader.load(directory: directory, split: .train)
    static let test = try! IDXLoader.load(directory: directory, split: .test)
    /// The default GEMM backend, as the command line uses it.
    static let gemm: GEMMBackend = try! GEMMBackendKind.onednn.make()

    /// The first `count` training samples.
    static func trainPrefix(_ count: Int) -> LabeledImages {
        LabeledImages(images: Array(train.images[..<(count * train.sampleSize)]), labels: Array(train.labels[..<count]),
                      height: train.height, width: train.width)
    }
}
