/// `pad-crop=P`: P zero pixels on every side, then a crop of the original size at a uniform
/// offset (the CIFAR recipes' `RandomCrop(32, padding=4)`); the crop at (oy, ox) of the padded
/// image is the image shifted by (P - oy, P - ox).
public struct PadCrop: ImageTransform {
    public let padding: Int
    public var name: String { "pad-crop" }
    public init(padding: Int) { self.padding = padding }

    /// The crop's top-left corner in the padded image, each in 0...2P.
    public func corner(draw: UInt64) -> (y: Int, x: Int) {
        let span = UInt64(2 * padding + 1)
        return (Int((draw >> 32) % span), Int((draw & 0xFFFF_FFFF) % span))
    }

    public func apply(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, draw: UInt64) {
        let (y, x) = corner(draw: draw)
        shift(input, to: output, height: height, width: width, channels: channels, dy: padding - y, dx: padding - x)
    }
}
