/// Which half of a data set: MNIST files start `train-` and `t10k-`.
public enum Split: String, CaseIterable, Sendable {
    case train
    case test

    /// The IDX file name prefix: `train` or `t10k`.
    var filePrefix: String {
        switch self {
        case .train: "train"
        case .test: "t10k"
        }
    }
}
