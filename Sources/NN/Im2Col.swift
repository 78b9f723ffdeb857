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
