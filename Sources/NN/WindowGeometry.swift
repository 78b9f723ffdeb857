/// Geometry of a 2-D sliding window over an NHWC image: shared by convolution (im2col) and pooling.
struct WindowGeometry {
    let height: Int, width: Int, channels: Int          // input, per sample
    let kernelHeight: Int, kernelWidth: Int
    let strideHeight: Int, strideWidth: Int
    let outputHeight: Int, outputWidth: Int
    let padTop: Int, padLeft: Int

    init(inputShape: [Int], kernel: (Int, Int), strides: (Int, Int), padding: Padding) throws {
        guard inputShape.count == 3 else {
            throw ModelError("a 2-D window needs an [height, width, channels] input, got \(inputShape)")
        }
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = strides
        guard kernelHeight > 0, kernelWidth > 0, strideHeight > 0, strideWidth > 0 else {
            throw ModelError("window \(kernel) and strides \(strides) must be positive")
        }
        (outputHeight, padTop) = padding.window(input: height, kernel: kernelHeight, stride: strideHeight)
        (outputWidth, padLeft) = padding.window(input: width, kernel: kernelWidth, stride: strideWidth)
        guard outputHeight > 0, outputWidth > 0 else {
            throw ModelError("a \(kernelHeight)x\(kernelWidth) \(padding.rawValue) window does not fit a \(height)x\(width) input")
        }
    }

    /// Columns of one im2col row: `KH * KW * C`, in kernel (HWIO) order.
    var patchSize: Int { kernelHeight * kernelWidth * channels }
    var outputPixels: Int { outputHeight * outputWidth }
    var inputSize: Int { height * width * channels }

    /// The input rows of output row `oh`'s window, clipped to the image (padding is not in it).
    func rows(of oh: Int) -> Range<Int> {
        Swift.max(oh * strideHeight - padTop, 0) ..< Swift.min(oh * strideHeight - padTop + kernelHeight, height)
    }

    /// The input columns of output column `ow`'s window, clipped to the image.
    func columns(of ow: Int) -> Range<Int> {
        Swift.max(ow * strideWidth - padLeft, 0) ..< Swift.min(ow * strideWidth - padLeft + kernelWidth, width)
    }
}
