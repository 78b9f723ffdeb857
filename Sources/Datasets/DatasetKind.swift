/// The MNIST-format data sets the tools know by name.
public enum DatasetKind: String, CaseIterable, Sendable {
    /// Handwritten digits; fetched by `scripts/fetch-mnist.sh`.
    case mnist
    /// Zalando's clothing images; Debian package `dataset-fashion-mnist`.
    case fashionMNIST = "fashion-mnist"

    /// Where the four IDX files are looked for unless a directory is given.
    public var defaultDirectory: String {
        switch self {
        case .mnist: "data/mnist"
        case .fashionMNIST: "/usr/share/datasets/fashion-mnist"
        }
    }
}
