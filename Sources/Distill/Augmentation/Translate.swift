/// `translate=K`: an integer shift uniform in -K...K on each axis, zeros filling what moves in:
/// Hinton et al.'s jitter of "up to two pixels in any direction" is `translate=2`.
public struct Translate: ImageTransform {
    public let pixels: Int
    public var name: String { "translate" }
    public init(pixels: Int) { self.pixels = pixels }

    /// The draw's shift: the low half picks dy, the high half dx.
    public func offsets(draw: UInt64) -> (dy: Int, dx: Int) {
        let span = UInt64(2 * pixels + 1)
        return (Int((draw & 0xFFFF_FFFF) % span) - pixels, Int((draw >> 32) % span) - pixels)
    }

    public func apply(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, draw: UInt64) {
        let (dy, dx) = offsets(draw: draw)
        shift(input, to: output, height: height, width: width, channels: channels, dy: dy, dx: dx)
    }
}
