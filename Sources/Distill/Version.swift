/// swift-distill's version, the one place it is written: `distill --version` prints it and every
/// saved model's metadata names it (`producer`).
public enum SwiftDistill {
    public static let version = "0.6.0"
}
