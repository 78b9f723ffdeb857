import ArgumentParser
import Collective
import Datasets
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

    /// Where the data comes from, for the log: the archive, the named files or the directory.
    var source: String {
        npz ?? trainImages.map { "\($0) and the other named files" } ?? dataDirectory.map { "IDX files in \($0)" }
            ?? "\(dataset.rawValue) from \(directory)"
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

    /// Both splits, checked to be the same on every rank, together with `items` (settings, files).
    func load(on communicator: Communicator, agreeing items: [(name: String, hash: UInt64)] = [])
        throws -> (train: LabeledImages, test: LabeledImages)
    {
        let (train, test) = (try load(.train), try load(.test))
        guard train.sampleShape == test.sampleShape else {
            throw DatasetError(path: testImages ?? npz ?? directory, reason: "test images are \(test.sampleShape), training images \(train.sampleShape); they must match")
        }
        guard test.classes <= train.classes else {
            throw DatasetError(path: testLabels ?? npz ?? directory, reason: "test labels go up to \(test.classes - 1), training labels only to \(train.classes - 1)")
        }
        try checkSameDataOnEveryRank([("the training data", train), ("the test data", test)], also: items, communicator: communicator)
        return (train, test)
    }

    func load(_ split: Split) throws -> LabeledImages {
        let files = split == .train ? (trainImages, trainLabels) : (testImages, testLabels)
        let data = if let npz {
            try NPZLoader.load(path: npz, split: split)
        } else if let images = files.0, let labels = files.1 {
            try IDXLoader.load(imagesPath: images, labelsPath: labels)
        } else {
            try IDXLoader.load(directory: directory, split: split)
        }
        return data.prefix(split == .train ? trainLimit : testLimit)
    }
}

extension DatasetKind: ExpressibleByArgument {}

extension LabeledImages {
    /// The first `limit` samples (all of them when `limit` is nil or larger).
    func prefix(_ limit: Int?) -> LabeledImages {
        guard let limit, limit < count else { return self }
        return LabeledImages(images: Array(images[..<(limit * sampleSize)]), labels: Array(labels[..<limit]),
                             height: height, width: width, channels: channels, classes: classes)
    }
}
