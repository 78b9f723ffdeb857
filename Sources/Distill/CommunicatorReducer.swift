import Collective
import NN

/// A `BatchReducer` over the ranks: BatchNormalization's sums of the global batch are one
/// allreduce each, taken by every rank in the same order.
public final class CommunicatorReducer: BatchReducer {
    private let communicator: Communicator

    public init(_ communicator: Communicator) { self.communicator = communicator }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) { communicator.allreduceSum(values) }
}
