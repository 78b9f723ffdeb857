/// `flip`: with probability 1/2, the image mirrored left to right, `out[y][x] = in[y][W - 1 - x]`.
public struct HorizontalFlip: ImageTransform {
    public var name: String { "flip" }
    public init() {}

    public func flips(draw: UInt64) -> Bool { draw >> 63 == 1 }

    public func apply(_ input: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, height: Int, width: Int, channels: Int, draw: UInt64) {
        guard flips(draw: draw) else { output.update(from: input, count: height * width * channels); return }
        for y in 0..<height {
            for x in 0..<width {
                (output + (y * width + x) * channels).update(from: input + (y * width + width - 1 - x) * channels, count: channels)
            }
        }
    }
}
