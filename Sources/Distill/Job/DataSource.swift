import Collective
import Datasets

/// Where a job's images come from: a Keras-style .npz archive, named IDX files, or the four IDX
/// files of a directory; optionally only the first samples of each split.
public struct DataSource: Sendable {
    public var npz: String?
    /// The directory of the four IDX files, used for a split whose files are not named.
    public var directory: String
    public var trainFiles: (images: String, labels: String)?
    public var testFiles: (images: String, labels: String)?
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Where the data comes from, for logs and saved models (e.g. "mnist from data/mnist").
    public var description: String

    public init(npz: String? = nil, directory: String, trainFiles: (images: String, labels: String)? = nil,
                testFiles: (images: String, labels: String)? = nil, trainLimit: Int? = nil, testLimit: Int? = nil,
                description: String) {
        (self.npz, self.directory, self.trainFiles, self.testFiles) = (npz, directory, trainFiles, testFiles)
        (self.trainLimit, self.testLimit, self.description) = (trainLimit, testLimit, description)
    }

    /// Both splits, checked to be the same on every rank, together with `items` (settings, files).
    public func load(on communicator: Communicator, agreeing items: [(name: String, hash: UInt64)] = [])
        throws -> (train: LabeledImages, test: LabeledImages)
    {
        let (train, test) = (try load(.train), try load(.test))
        guard train.sampleShape == test.sampleShape else {
            throw DatasetError(path: testFiles?.images ?? npz ?? directory,
                               reason: "test images are \(test.sampleShape), training images \(train.sampleShape); they must match")
        }
        guard test.classes <= train.classes else {
            throw DatasetError(path: testFiles?.labels ?? npz ?? directory,
                               reason: "test labels go up to \(test.classes - 1), training labels only to \(train.classes - 1)")
        }
        try checkSameDataOnEveryRank([("the training data", train), ("the test data", test)], also: items, communicator: communicator)
        return (train, test)
    }

    /// One split, cut to its limit.
    public func load(_ split: Split) throws -> LabeledImages {
        let data = if let npz {
            try NPZLoader.load(path: npz, split: split)
        } else if let files = split == .train ? trainFiles : testFiles {
            try IDXLoader.load(imagesPath: files.images, labelsPath: files.labels)
        } else {
            try IDXLoader.load(directory: directory, split: split)
        }
        return data.prefix(split == .train ? trainLimit : testLimit)
    }
}

extension LabeledImages {
    /// The first `limit` samples (all of them when `limit` is nil or larger).
    func prefix(_ limit: Int?) -> LabeledImages {
        guard let limit, limit < count else { return self }
        return LabeledImages(images: Array(images[..<(limit * sampleSize)]), labels: Array(labels[..<limit]),
                             height: height, width: width, channels: channels, classes: classes)
    }
}
