import Collective
import Datasets
import NN

/// What a job runs with: its ranks, the GEMM backend every model multiplies on, where its lines
/// go (rank 0 prints; the other ranks' `log` does nothing) and whether a stop was asked for.
public struct JobContext {
    public let communicator: Communicator
    public let gemm: GEMMBackend
    public var log: (String) -> Void
    /// Polled once per step on every rank (e.g. "a SIGTERM arrived").
    public var stopRequested: () -> Bool

    public init(communicator: Communicator, gemm: GEMMBackend, log: @escaping (String) -> Void = { _ in },
                stopRequested: @escaping () -> Bool = { false }) {
        (self.communicator, self.gemm, self.log, self.stopRequested) = (communicator, gemm, log, stopRequested)
    }

    public var isRoot: Bool { communicator.isRoot }

    /// A recipe of `settings` on this job's ranks and backend.
    public func recipe(_ settings: RecipeSettings, train: LabeledImages, test: LabeledImages) -> Recipe {
        Recipe(settings: settings, communicator: communicator, gemm: gemm, train: train, test: test)
    }
}
