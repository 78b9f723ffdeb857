import ArgumentParser
import Datasets   // DatasetKind: the values of --dataset
import Distill

/// Which images to learn from.
struct DataOptions: ParsableArguments {
    @Option(help: "Dataset: mnist or fashion-mnist (Debian's dataset-fashion-mnist).")
    var dataset: DatasetKind = .mnist

    @Option(name: .customLong("data-dir"),
            help: "Directory with the four IDX files (plain or .gz). Default: data/mnist, or /usr/share/datasets/fashion-mnist.")
    var dataDirectory: String?

    @Option(help: ArgumentHelp("IDX file of training images, N x H x W or N x H x W x C unsigned bytes (plain or gzip). "
                               + "Default: train-images-idx3-ubyte in --data-dir.", valueName: "file"))
    var trainImages: String?

    @Option(help: ArgumentHelp("IDX file of training labels, N bytes 0...K-1 (K classes: the models' output units). "
                               + "Default: train-labels-idx1-ubyte in --data-dir.", valueName: "file"))
    var trainLabels: String?

    @Option(help: ArgumentHelp("IDX file of test images. Default: t10k-images-idx3-ubyte in --data-dir.", valueName: "file"))
    var testImages: String?

    @Option(help: ArgumentHelp("IDX file of test labels. Default: t10k-labels-idx1-ubyte in --data-dir.", valueName: "file"))
    var testLabels: String?

    @Option(help: ArgumentHelp("A NumPy .npz archive in Keras's mnist.npz layout (x_train, y_train, x_test, y_test; images "
                               + "N x H x W or N x H x W x C unsigned bytes, labels 0...K-1), instead of IDX files.", valueName: "file.npz"))
    var npz: String?

    @Option(help: "Use only the first N training samples (for quick runs).")
    var trainLimit: Int?

    @Option(help: "Use only the first N test samples.")
    var testLimit: Int?

    var directory: String { dataDirectory ?? dataset.defaultDirectory }

    /// The flags as a data source; its description names the archive, the files or the directory.
    var source: DataSource {
        DataSource(npz: npz, directory: directory, trainFiles: trainImages.flatMap { images in trainLabels.map { (images, $0) } },
                   testFiles: testImages.flatMap { images in testLabels.map { (images, $0) } },
                   trainLimit: trainLimit, testLimit: testLimit,
                   description: npz ?? trainImages.map { "\($0) and the other named files" } ?? dataDirectory.map { "IDX files in \($0)" }
                       ?? "\(dataset.rawValue) from \(directory)")
    }

    func validate() throws {
        if npz != nil, [trainImages, trainLabels, testImages, testLabels, dataDirectory].contains(where: { $0 != nil }) {
            throw ValidationError("--npz holds both splits; it cannot be combined with --data-dir or the IDX file flags")
        }
        for (images, labels, split) in [(trainImages, trainLabels, "train"), (testImages, testLabels, "test")] where (images == nil) != (labels == nil) {
            throw ValidationError("--\(split)-images and --\(split)-labels go together; got only --\(split)-\(images == nil ? "labels" : "images")")
        }
        for (flag, value) in [("--train-limit", trainLimit), ("--test-limit", testLimit)] {
            if let value, value <= 0 || value > Int(Int32.max) {
                throw ValidationError("\(flag) must be a positive number of samples up to \(Int32.max), got \(value)")
            }
        }
    }
}

extension DatasetKind: ExpressibleByArgument {}
