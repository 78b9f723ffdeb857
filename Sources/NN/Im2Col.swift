/// `columns[batch * OH * OW, KH * KW * C]` from `input[batch, H, W, C]`; padding reads as zero.
/// A window row's taps read neighbouring pixels (whatever the stride), so each window row is one
/// contiguous copy of `(taps inside the image) * C` values, with zeros for the taps outside.
func im2col(_ input: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, _ g: WindowGeometry, batch: Int) {
    let c = g.channels
    var row = columns
    for n in 0..<batch {
        let image = input + n * g.inputSize
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                let left = ow * g.strideWidth - g.padLeft
                let inside = g.columns(of: ow), taps = (inside.lowerBound - left)..<(inside.upperBound - left)   // kernel columns in the image
                for kh in 0..<g.kernelHeight {
                    let ih = oh * g.strideHeight - g.padTop + kh
                    let dst = row + kh * g.kernelWidth * c
                    guard ih >= 0, ih < g.height, !taps.isEmpty else {
                        dst.update(repeating: 0, count: g.kernelWidth * c)
                        continue
                    }
                    dst.update(repeating: 0, count: taps.lowerBound * c)
                    copyFloats(image + (ih * g.width + left + taps.lowerBound) * c, to: dst + taps.lowerBound * c, count: taps.count * c)
                    (dst + taps.upperBound * c).update(repeating: 0, count: (g.kernelWidth - taps.upperBound) * c)
                }
                row += g.patchSize
            }
        }
    }
}

/// The adjoint of `im2col`: `inputGradient[batch, H, W, C] = sum of column entries that read each pixel`.
/// One window row is one contiguous accumulation (it holds each pixel once), so every pixel receives
/// its entries in the order of the windows.
func col2im(_ columns: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>, _ g: WindowGeometry, batch: Int) {
    let c = g.channels
    inputGradient.update(repeating: 0, count: batch * g.inputSize)
    var row = columns
    for n in 0..<batch {
        let image = inputGradient + n * g.inputSize
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                let left = ow * g.strideWidth - g.padLeft
                let inside = g.columns(of: ow), taps = (inside.lowerBound - left)..<(inside.upperBound - left)   // kernel columns in the image
                for kh in 0..<g.kernelHeight where !taps.isEmpty {
                    let ih = oh * g.strideHeight - g.padTop + kh
                    guard ih >= 0, ih < g.height else { continue }
                    accumulate(row + (kh * g.kernelWidth + taps.lowerBound) * c, into: image + (ih * g.width + left + taps.lowerBound) * c,
                               count: taps.count * c)
                }
                row += g.patchSize
            }
        }
    }
}
