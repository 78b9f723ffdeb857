import NN
import XCTest

/// ZeroPadding2D: exact forward values (a copy and zeros: no rounding, so equality) against hand
/// tables and a direct reference, the gradient (the output gradient's interior, exactly, and by
/// finite differences: the layer is linear, so the central difference is exact up to float rounding),
/// and Keras's three `padding` forms and its malformed ones in a model description.
final class ZeroPadding2DTests: XCTestCase {
    /// `out[n, top + y, left + x, c] = in[n, y, x, c]`, zero elsewhere.
    static func naive(_ input: [Float], batch: Int, shape: [Int], top: Int, bottom: Int, left: Int, right: Int) -> [Float] {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let (oh, ow) = (top + h + bottom, left + w + right)
        var out = [Float](repeating: 0, count: batch * oh * ow * c)
        for n in 0..<batch {
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c { out[((n * oh + top + y) * ow + left + x) * c + ch] = input[((n * h + y) * w + x) * c + ch] }
                }
            }
        }
        return out
    }

    func testAsymmetricAsMobileNetV2Writes() throws {
        // ((0, 1), (0, 1)): one zero row at the bottom and one zero column at the right.
        let layer = ZeroPadding2D(top: 0, bottom: 1, left: 0, right: 1)
        let h = try LayerHarness(layer, inputShape: [2, 3, 1], batch: 1, input: [1, 2, 3, 4, 5, 6], seed: 0)
        _ = h.loss()
        XCTAssertEqual(h.outputShape, [3, 4, 1])
        XCTAssertEqual(h.output.array, [1, 2, 3, 0,
                                        4, 5, 6, 0,
                                        0, 0, 0, 0])
    }

    func testSymmetricWithTwoChannels() throws {
        let h = try LayerHarness(ZeroPadding2D(top: 1, bottom: 1, left: 1, right: 1), inputShape: [1, 2, 2], batch: 1,
                                 input: [1, 2, 3, 4], seed: 0)
        _ = h.loss()
        XCTAssertEqual(h.outputShape, [3, 4, 2])
        XCTAssertEqual(h.output.array, [0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 1, 2, 3, 4, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Every side different, batch 3, and an output buffer full of garbage: the padding must be written.
    func testEverySideDifferentAgainstTheReference() throws {
        for (top, bottom, left, right) in [(1, 2, 3, 0), (0, 0, 0, 0), (2, 0, 0, 1), (0, 3, 2, 2)] {
            var rng = SeededGenerator(seed: 600)
            let shape = [3, 5, 2], batch = 3
            let input = rng.floats(batch * elementCount(shape), in: 0.5, 2)   // never 0, so a missed copy shows
            let h = try LayerHarness(ZeroPadding2D(top: top, bottom: bottom, left: left, right: right), inputShape: shape,
                                     batch: batch, input: input, seed: 0)
            XCTAssertEqual(h.outputShape, [top + 3 + bottom, left + 5 + right, 2])
            h.output.pointer.update(repeating: .nan, count: h.output.count)
            h.layer.forward(input: h.input.pointer, output: h.output.pointer, batch: batch)
            XCTAssertEqual(h.output.array, Self.naive(input, batch: batch, shape: shape, top: top, bottom: bottom, left: left, right: right),
                           "padding \((top, bottom, left, right))")
        }
    }

    /// The input gradient is the interior of the output gradient, exactly (overwriting the sentinel).
    func testGradientIsTheInterior() throws {
        let (top, bottom, left, right) = (2, 1, 0, 3)
        let shape = [3, 4, 2], batch = 2
        let h = try LayerHarness(ZeroPadding2D(top: top, bottom: bottom, left: left, right: right), inputShape: shape, batch: batch, seed: 601)
        let (oh, ow) = (top + 3 + bottom, left + 4 + right)
        let upstream = h.upstream.array
        var interior: [Float] = []
        for n in 0..<batch {
            for y in 0..<3 { for x in 0..<4 { for c in 0..<2 { interior.append(upstream[((n * oh + top + y) * ow + left + x) * 2 + c]) } } }
        }
        XCTAssertEqual(h.analyticGradients().input, interior)
    }

    func testGradients() throws {
        for (k, sides) in [(1, 1, 1, 1), (0, 1, 0, 1), (2, 0, 1, 3)].enumerated() {
            let layer = ZeroPadding2D(top: sides.0, bottom: sides.1, left: sides.2, right: sides.3)
            let h = try LayerHarness(layer, inputShape: [5, 7, 3], batch: 2, seed: 610 + UInt64(k))
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, "zero padding \(sides)")
        }
    }

    func testNeedsAnImage() {
        XCTAssertThrowsError(try ZeroPadding2D(top: 1, bottom: 1, left: 1, right: 1).build(inputShape: [8]))
        assertModelError([KerasModel.layer("ZeroPadding2D", "z")], input: "[null, 8]", saying: "layer 'z'", "[height, width, channels]")
    }

    // MARK: - Keras's padding option

    private func padding(_ options: String) throws -> (sides: [Int], shape: [Int]) {
        let model = try KerasModel.build([KerasModel.layer("ZeroPadding2D", "z", options)], input: "[null, 4, 5, 2]")
        let layer = try XCTUnwrap(model.layers.first as? ZeroPadding2D)
        XCTAssertEqual(model.layerNames, ["z"])
        return ([layer.top, layer.bottom, layer.left, layer.right], model.outputShapes[0])
    }

    func testTheThreeForms() throws {
        XCTAssertEqual(try padding(#""padding": 2"#).sides, [2, 2, 2, 2])
        XCTAssertEqual(try padding(#""padding": 2"#).shape, [8, 9, 2])
        XCTAssertEqual(try padding("").sides, [1, 1, 1, 1], "Keras's default (1, 1)")
        XCTAssertEqual(try padding(#""padding": [2, 3]"#).sides, [2, 2, 3, 3], "(rows, columns)")
        XCTAssertEqual(try padding(#""padding": [[0, 1], [0, 1]]"#).sides, [0, 1, 0, 1])
        XCTAssertEqual(try padding(#""padding": [[0, 1], [0, 1]]"#).shape, [5, 6, 2])
        XCTAssertEqual(try padding(#""padding": [[1, 2], [3, 4]]"#).sides, [1, 2, 3, 4])
        XCTAssertEqual(try padding(#""padding": [[1, 2], [3, 4]]"#).shape, [7, 12, 2])
        XCTAssertEqual(try padding(#""padding": [[3, 0], [0, 0]], "data_format": "channels_last""#).sides, [3, 0, 0, 0])
        XCTAssertEqual(try padding(#""padding": 0"#).shape, [4, 5, 2])
    }

    func testMalformedPaddingIsAOneLineError() {
        for (value, shown) in [("[1, 2, 3]", "[1, 2, 3]"), ("-1", "-1"), (#""x""#, #""x""#), ("[1, -2]", "[1, -2]"),
                               ("[[1, 2], [3]]", "[[1, 2], [3]]"), ("[[1, -1], [0, 0]]", "[[1, -1], [0, 0]]"),
                               ("[[1, 2, 3], [0, 0]]", "[[1, 2, 3], [0, 0]]"), ("[1.5, 2]", "[1.5, 2]"), ("[]", "[]"),
                               ("[[0, 1], 1]", "[[0, 1], 1]"), ("70000", "70000"), ("true", "true"), ("{}", "{}"),
                               ("null", "null")] {   // Keras's ZeroPadding2D raises on padding=None too
            assertModelError([KerasModel.layer("ZeroPadding2D", "z", #""padding": \#(value)"#)],
                             saying: "'z' (ZeroPadding2D)", "option padding is \(shown)", "expected an integer")
        }
        assertModelError([KerasModel.layer("ZeroPadding2D", "z", #""padding": 1, "data_format": "channels_first""#)],
                         saying: "'z' (ZeroPadding2D)", "data_format")
        assertModelError([KerasModel.layer("ZeroPadding2D", "z", #""pading": 1"#)], saying: "'z' (ZeroPadding2D)", "option pading")
        // The largest padding accepted still gives an output too large to allocate: refused by size, not trapped on.
        assertModelError([KerasModel.layer("ZeroPadding2D", "z", #""padding": 65536"#)], saying: "layer 'z'", "2^31")
    }
}
