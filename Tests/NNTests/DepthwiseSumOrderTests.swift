import NN
import XCTest

/// DepthwiseConv2D's loop (the layer without oneDNN) against a Float reference written here from its documented
/// order of sums, bit for bit: every value in every pass, under each loop the CPU can run (`DepthwiseLoop`: on
/// channel counts that are multiples of 16, AVX-512's and AVX2's register-blocked runs of several pixels and
/// 16-channel blocks at once, interior pixels apart from a row's ends; else the plain loop), and on a channel count
/// that is not a multiple of 16. The order, per value:
/// - output: the bias (or 0), then + input * kernel over the taps inside the image, row-major;
/// - kernel gradient: its previous value, then + input * output gradient over the images and their output
///   pixels in order, for the pixels whose input the tap reads inside the image;
/// - input gradient: 0, then + output gradient * kernel over the taps that read the pixel, from the last kernel
///   row and, in each, from the last kernel column;
/// - bias gradient: its previous value, then + output gradient over the images and pixels in order.
/// Float arithmetic with one rounding per operation on both sides (the loop never contracts into FMAs), so any
/// other order, a skipped or extra tap, or a pixel read at the wrong place shows as a changed bit.
final class DepthwiseSumOrderTests: XCTestCase {
    struct Setting: CustomStringConvertible {
        var shape: [Int], kernel: (Int, Int), strides: (Int, Int), padding: Padding, bias = true
        var description: String { "input \(shape) k \(kernel) s \(strides) \(padding) bias \(bias)" }
    }

    static let settings: [Setting] = [
        Setting(shape: [7, 7, 144], kernel: (3, 3), strides: (1, 1), padding: .same),           // MobileNet's 7 x 7 block
        Setting(shape: [14, 14, 48], kernel: (3, 3), strides: (1, 1), padding: .same, bias: false),
        Setting(shape: [15, 15, 48], kernel: (3, 3), strides: (2, 2), padding: .valid),         // after ZeroPadding2D
        Setting(shape: [10, 9, 32], kernel: (3, 3), strides: (2, 2), padding: .same),            // odd width: one padded column
        Setting(shape: [13, 21, 80], kernel: (3, 3), strides: (1, 1), padding: .valid),         // runs of 8, 4, 2 and 1
        Setting(shape: [9, 11, 16], kernel: (5, 5), strides: (1, 1), padding: .same),
        Setting(shape: [9, 10, 48], kernel: (5, 5), strides: (2, 2), padding: .same),
        Setting(shape: [8, 8, 16], kernel: (3, 2), strides: (3, 1), padding: .same),
        Setting(shape: [2, 2, 64], kernel: (3, 3), strides: (1, 1), padding: .same),             // every pixel an edge
        Setting(shape: [1, 1, 32], kernel: (3, 3), strides: (2, 2), padding: .same),
        Setting(shape: [1, 1, 32], kernel: (5, 5), strides: (1, 1), padding: .same),             // MobileNetV3's 1 x 1 maps
        Setting(shape: [2, 2, 16], kernel: (7, 7), strides: (1, 1), padding: .same),             // the kernel wider than the map
        Setting(shape: [6, 5, 16], kernel: (1, 1), strides: (2, 2), padding: .valid, bias: false),
        Setting(shape: [6, 7, 24], kernel: (3, 3), strides: (1, 1), padding: .same),             // not a multiple of 16
    ]

    /// TensorFlow's padding (as DepthwiseConv2DTests): output size and padding before.
    static func window(_ n: Int, _ k: Int, _ s: Int, _ padding: Padding) -> (output: Int, before: Int) {
        DepthwiseConv2DTests.window(n, kernel: k, stride: s, padding)
    }

    func testEveryPassAddsInItsDocumentedOrder() throws {
        for (index, s) in Self.settings.enumerated() {
            let batch = 3, (h, w, c) = (s.shape[0], s.shape[1], s.shape[2]), (kh, kw) = s.kernel
            let (oh, top) = Self.window(h, kh, s.strides.0, s.padding), (ow, left) = Self.window(w, kw, s.strides.1, s.padding)
            var rng = SeededGenerator(seed: 900 + UInt64(index))
            let input = rng.floats(batch * h * w * c), kernel = rng.floats(kh * kw * c), bias = rng.floats(c)
            let upstream = rng.floats(batch * oh * ow * c), kernelStart = rng.floats(kh * kw * c), biasStart = rng.floats(c)

            // The reference, in the order above.
            func x(_ n: Int, _ i: Int, _ j: Int, _ ch: Int) -> Float { input[((n * h + i) * w + j) * c + ch] }
            func dy(_ n: Int, _ i: Int, _ j: Int, _ ch: Int) -> Float { upstream[((n * oh + i) * ow + j) * c + ch] }
            var output = [Float](repeating: 0, count: upstream.count), kernelGradient = kernelStart, biasGradient = biasStart
            var inputGradient = [Float](repeating: 0, count: input.count)
            for n in 0..<batch {
                for i in 0..<oh {
                    for j in 0..<ow {
                        for ch in 0..<c {
                            var sum: Float = s.bias ? bias[ch] : 0
                            for a in 0..<kh {
                                for b in 0..<kw {
                                    let (r, q) = (i * s.strides.0 - top + a, j * s.strides.1 - left + b)
                                    guard (0..<h).contains(r), (0..<w).contains(q) else { continue }
                                    sum = sum + x(n, r, q, ch) * kernel[(a * kw + b) * c + ch]
                                    kernelGradient[(a * kw + b) * c + ch] = kernelGradient[(a * kw + b) * c + ch] + x(n, r, q, ch) * dy(n, i, j, ch)
                                }
                            }
                            output[((n * oh + i) * ow + j) * c + ch] = sum
                            if s.bias { biasGradient[ch] = biasGradient[ch] + dy(n, i, j, ch) }
                        }
                    }
                }
                for r in 0..<h {
                    for q in 0..<w {
                        for ch in 0..<c {
                            var sum: Float = 0
                            for a in stride(from: kh - 1, through: 0, by: -1) {
                                let rows = r + top - a
                                guard rows >= 0, rows % s.strides.0 == 0, rows / s.strides.0 < oh else { continue }
                                for b in stride(from: kw - 1, through: 0, by: -1) {
                                    let columns = q + left - b
                                    guard columns >= 0, columns % s.strides.1 == 0, columns / s.strides.1 < ow else { continue }
                                    sum = sum + dy(n, rows / s.strides.0, columns / s.strides.1, ch) * kernel[(a * kw + b) * c + ch]
                                }
                            }
                            inputGradient[((n * h + r) * w + q) * c + ch] = sum
                        }
                    }
                }
            }

            // The layer's loops, with and without an input gradient.
            let layer = DepthwiseConv2D(kernelSize: s.kernel, strides: s.strides, padding: s.padding, useBias: s.bias)
            XCTAssertEqual(try layer.build(inputShape: s.shape), [oh, ow, c], "\(s)")
            let parameters = [FloatBuffer(kernel)] + (s.bias ? [FloatBuffer(bias)] : [])
            for loop in Self.loops {
                DepthwiseLoop.current = loop
                defer { DepthwiseLoop.current = DepthwiseLoop.widest }
                XCTAssertEqual(DepthwiseLoop.current, loop)
                for withInputGradient in [true, false] {
                    let gradients = [FloatBuffer(kernelStart)] + (s.bias ? [FloatBuffer(biasStart)] : [])
                    layer.bind(parameters: parameters.map(\.pointer), gradients: gradients.map(\.pointer))
                    // Each written array is followed by 64 sentinels that no pass may touch.
                    let x = FloatBuffer(input), g = FloatBuffer(upstream), guardValues = [Float](repeating: 12345, count: 64)
                    let y = FloatBuffer([Float](repeating: 0, count: output.count) + guardValues)
                    let dx = FloatBuffer([Float](repeating: 1000, count: input.count) + guardValues)   // overwritten, never added to
                    layer.forward(input: x.pointer, output: y.pointer, batch: batch)
                    layer.backward(outputGradient: g.pointer, inputGradient: withInputGradient ? dx.pointer : nil, input: x.pointer,
                                   output: y.pointer, batch: batch)
                    let label = "\(s), \(loop.name), input gradient \(withInputGradient)"
                    XCTAssertEqual(y.array.suffix(64).filter { $0 != 12345 }.count, 0, "written past the output, \(label)")
                    XCTAssertEqual(dx.array.suffix(64).filter { $0 != 12345 }.count, 0, "written past the input gradient, \(label)")
                    assertSameBits(Array(y.array.prefix(output.count)), output, "output, \(label)")
                    assertSameBits(gradients[0].array, kernelGradient, "kernel gradient, \(label)")
                    if s.bias { assertSameBits(gradients[1].array, biasGradient, "bias gradient, \(label)") }
                    if withInputGradient { assertSameBits(Array(dx.array.prefix(input.count)), inputGradient, "input gradient, \(label)") }
                }
            }
        }
    }

    /// The loops this CPU runs: all three on AVX-512, two on AVX2.
    static var loops: [DepthwiseLoop] { DepthwiseLoop.allCases.filter { $0 <= DepthwiseLoop.widest } }

    func testTheWidestLoopTheCPUHasIsTheDefault() {
        XCTAssertEqual(DepthwiseLoop.current, DepthwiseLoop.widest)
        DepthwiseLoop.current = .plain
        XCTAssertEqual(DepthwiseLoop.current, .plain)
        DepthwiseLoop.current = .avx512   // at most what the CPU has
        XCTAssertEqual(DepthwiseLoop.current, DepthwiseLoop.widest)
    }

    /// One line per array: how many values differ and the first of them.
    private func assertSameBits(_ actual: [Float], _ expected: [Float], _ label: String, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, label, line: line)
        let differing = zip(actual, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
        if let first = differing.first {
            XCTFail("\(label): \(differing.count) of \(actual.count) values differ, first at \(first.offset): "
                    + "\(first.element.0) against \(first.element.1)", line: line)
        }
    }
}
