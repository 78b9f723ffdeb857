import Collective
import Datasets
import NN

/// Every rank must train on the same data with the same settings, or batch schedules and gather
/// counts would differ (a hang) or the job would quietly average different runs (a wrong answer).
/// Full hashes of each dataset (every pixel and label), compared across ranks in one collective.
public func checkSameDataOnEveryRank(_ datasets: [(name: String, data: LabeledImages)], also items: [(name: String, hash: UInt64)] = [],
                                     communicator: Communicator) throws {
    guard communicator.size > 1 else { return }
    try communicator.checkAgreement(datasets.map { ($0.name, datasetHash($0.data)) } + items)
}

/// A full hash of a dataset: its shape, every pixel and every label, in order.
public func datasetHash(_ data: LabeledImages) -> UInt64 {
    var hash = ContentHash()
    hash.mix(UInt64(data.height))
    hash.mix(UInt64(data.width))
    hash.mix(UInt64(data.channels))
    hash.mix(data.images)
    hash.mix(data.labels)
    return hash.value
}

/// A hash of a textual description, e.g. of the settings that affect training.
public func settingsHash(_ description: String) -> UInt64 {
    var hash = ContentHash()
    hash.mix(description)
    return hash.value
}

/// A hash of a model's parameter bits (what a model file loaded to).
public func parameterHash(_ model: Sequential) -> UInt64 {
    var hash = ContentHash()
    hash.mix(UnsafeBufferPointer(model.parameters.values.buffer))
    return hash.value
}
