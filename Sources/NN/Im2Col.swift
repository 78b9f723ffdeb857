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

/// `columns[batch * OH * OW, KH * KW * C]` from `input[batch, H, W, C]`; padding reads as zero.
func im2col(_ input: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, _ g: WindowGeometry, batch: Int) {
    let c = g.channels
    var row = columns
    for n in 0..<batch {
        let image = input + n * g.inputSize
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                for kh in 0..<g.kernelHeight {
                    let ih = oh * g.strideHeight - g.padTop + kh
                    let dst = row + kh * g.kernelWidth * c
                    guard ih >= 0, ih < g.height else {
                        dst.update(repeating: 0, count: g.kernelWidth * c)
                        continue
                    }
                    for kw in 0..<g.kernelWidth {
                        let iw = ow * g.strideWidth - g.padLeft + kw
                        if iw >= 0, iw < g.width {
                            copyFloats(image + (ih * g.width + iw) * c, to: dst + kw * c, count: c)
                        } else {
                            (dst + kw * c).update(repeating: 0, count: c)
                        }
                    }
                }
                row += g.patchSize
            }
        }
    }
}

/// The adjoint of `im2col`: `inputGradient[batch, H, W, C] = sum of column entries that read each pixel`.
func col2im(_ columns: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>, _ g: WindowGeometry, batch: Int) {
    let c = g.channels
    inputGradient.update(repeating: 0, count: batch * g.inputSize)
    var row = columns
    for n in 0..<batch {
        let image = inputGradient + n * g.inputSize
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                for kh in 0..<g.kernelHeight {
                    let ih = oh * g.strideHeight - g.padTop + kh
                    guard ih >= 0, ih < g.height else { continue }
                    for kw in 0..<g.kernelWidth {
                        let iw = ow * g.strideWidth - g.padLeft + kw
                        guard iw >= 0, iw < g.width else { continue }
                        let src = row + (kh * g.kernelWidth + kw) * c
                        let dst = image + (ih * g.width + iw) * c
                        accumulate(src, into: dst, count: c)
                    }
                }
                row += g.patchSize
            }
        }
    }
}
