import Collective
import Datasets
import NN

/// Every rank must train on the same data with the same settings, or batch schedules and gather
/// counts would differ (a hang) or the job would quietly average different runs (a wrong answer).
/// Full hashes of each dataset (every pixel and label), compared across ranks in one collective.
public func checkSameDataOnEveryRank(_ datasets: [(name: String, data: LabeledImages)], also items: [(name: String, hash: UInt64)] = [],
                                     communicator: Communicator) throws {
    guard communicator.size > 1 else { return }
    try communicator.checkAgreement(datasets.map { ($0.name, Fingerprint.data($0.data)) } + items)
}
