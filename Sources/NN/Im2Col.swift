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

/// `im2col` for a convolution of `groups` groups: each row holds group 0's patch `[KH, KW, C / groups]`,
/// then group 1's, ..., so group g's columns are one block of `patchSize / groups` (leading dimension
/// `patchSize`) that one GEMM per group reads. With one group this is `im2col`'s layout (use `im2col`).
func groupedIm2col(_ input: UnsafePointer<Float>, _ columns: UnsafeMutablePointer<Float>, _ g: WindowGeometry, groups: Int, batch: Int) {
    let run = g.channels / groups
    forEachGroupedTap(g, groups: groups, batch: batch) { column, pixel in
        if let pixel { copyFloats(input + pixel, to: columns + column, count: run) } else { (columns + column).update(repeating: 0, count: run) }
    }
}

/// The adjoint of `groupedIm2col`.
func groupedCol2im(_ columns: UnsafePointer<Float>, _ inputGradient: UnsafeMutablePointer<Float>, _ g: WindowGeometry, groups: Int, batch: Int) {
    let run = g.channels / groups
    inputGradient.update(repeating: 0, count: batch * g.inputSize)
    forEachGroupedTap(g, groups: groups, batch: batch) { column, pixel in
        if let pixel { accumulate(columns + column, into: inputGradient + pixel, count: run) }
    }
}

/// The grouped layout's runs of `C / groups` values in order: `visit(column, pixel)` with `column` the
/// run's offset in the columns and `pixel` the offset of the input values it holds (nil: a tap outside the image).
@inline(__always)
private func forEachGroupedTap(_ g: WindowGeometry, groups: Int, batch: Int, _ visit: (_ column: Int, _ pixel: Int?) -> Void) {
    let run = g.channels / groups
    var column = 0
    for n in 0..<batch {
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                for group in 0..<groups {
                    for kh in 0..<g.kernelHeight {
                        let ih = oh * g.strideHeight - g.padTop + kh
                        for kw in 0..<g.kernelWidth {
                            let iw = ow * g.strideWidth - g.padLeft + kw
                            let inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                            visit(column, inside ? n * g.inputSize + (ih * g.width + iw) * g.channels + group * run : nil)
                            column += run
                        }
                    }
                }
            }
        }
    }
}
