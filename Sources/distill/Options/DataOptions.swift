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

    @Option(help: "Use only the first N training samples (for quick runs).")
    var trainLimit: Int?

    @Option(help: "Use only the first N test samples.")
    var testLimit: Int?

    var directory: String { dataDirectory ?? dataset.defaultDirectory }

    func validate() throws {
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
        try checkSameDataOnEveryRank([("the training data", train), ("the test data", test)], also: items, communicator: communicator)
        return (train, test)
    }

    func load(_ split: Split) throws -> LabeledImages {
        try MNISTLoader.load(directory: directory, split: split).prefix(split == .train ? trainLimit : testLimit)
    }
}

extension DatasetKind: ExpressibleByArgument {}

extension LabeledImages {
    /// The first `limit` samples (all of them when `limit` is nil or larger).
    func prefix(_ limit: Int?) -> LabeledImages {
        guard let limit, limit < count else { return self }
        return LabeledImages(images: Array(images[..<(limit * sampleSize)]), labels: Array(labels[..<limit]),
                             height: height, width: width)
    }
}
