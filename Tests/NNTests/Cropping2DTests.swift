import NN
import XCTest

/// Cropping2D: exact forward values (a copy: equality) against a direct reference, the gradient (the output
/// gradient put back in place, zeros on the cropped border; and by finite differences), Keras's three `cropping`
/// forms, a crop that leaves nothing, and malformed options in a model description.
final class Cropping2DTests: XCTestCase {
    /// `out[n, y, x, c] = in[n, top + y, left + x, c]`.
    static func naive(_ input: [Float], batch: Int, shape: [Int], top: Int, bottom: Int, left: Int, right: Int) -> [Float] {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        let (oh, ow) = (h - top - bottom, w - left - right)
        var out: [Float] = []
        for n in 0..<batch {
            for y in 0..<oh { for x in 0..<ow { for ch in 0..<c { out.append(input[((n * h + top + y) * w + left + x) * c + ch]) } } }
        }
        XCTAssertEqual(out.count, batch * oh * ow * c)
        return out
    }

    func testAsNASNetWrites() throws {
        // ((1, 0), (1, 0)): the first row and the first column dropped.
        let h = try LayerHarness(Cropping2D(top: 1, bottom: 0, left: 1, right: 0), inputShape: [3, 3, 1], batch: 1,
                                 input: [1, 2, 3, 4, 5, 6, 7, 8, 9], seed: 0)
        _ = h.loss()
        XCTAssertEqual(h.outputShape, [2, 2, 1])
        XCTAssertEqual(h.output.array, [5, 6, 8, 9])
    }

    func testEverySideDifferentAgainstTheReference() throws {
        for (top, bottom, left, right) in [(1, 2, 3, 0), (0, 0, 0, 0), (2, 0, 0, 1), (0, 1, 2, 2)] {
            var rng = SeededGenerator(seed: 700)
            let shape = [4, 6, 2], batch = 3
            let input = rng.floats(batch * elementCount(shape), in: 0.5, 2)
            let h = try LayerHarness(Cropping2D(top: top, bottom: bottom, left: left, right: right), inputShape: shape,
                                     batch: batch, input: input, seed: 0)
            XCTAssertEqual(h.outputShape, [4 - top - bottom, 6 - left - right, 2])
            h.output.pointer.update(repeating: .nan, count: h.output.count)
            h.layer.forward(input: h.input.pointer, output: h.output.pointer, batch: batch)
            XCTAssertEqual(h.output.array, Self.naive(input, batch: batch, shape: shape, top: top, bottom: bottom, left: left, right: right),
                           "cropping \((top, bottom, left, right))")
        }
    }

    /// The input gradient is the output gradient in place and zero on the cropped border, exactly.
    func testGradientIsPutBackInPlace() throws {
        let (top, bottom, left, right) = (1, 0, 2, 1), shape = [3, 5, 2], batch = 2
        let h = try LayerHarness(Cropping2D(top: top, bottom: bottom, left: left, right: right), inputShape: shape, batch: batch, seed: 701)
        let upstream = h.upstream.array, (oh, ow) = (2, 2)
        var expected = [Float](repeating: 0, count: batch * 3 * 5 * 2)
        for n in 0..<batch {
            for y in 0..<oh {
                for x in 0..<ow { for c in 0..<2 { expected[((n * 3 + top + y) * 5 + left + x) * 2 + c] = upstream[((n * oh + y) * ow + x) * 2 + c] } }
            }
        }
        XCTAssertEqual(h.analyticGradients().input, expected)
    }

    func testGradients() throws {
        for (k, sides) in [(1, 1, 1, 1), (1, 0, 1, 0), (2, 0, 1, 3)].enumerated() {
            let h = try LayerHarness(Cropping2D(top: sides.0, bottom: sides.1, left: sides.2, right: sides.3), inputShape: [5, 7, 3],
                                     batch: 2, seed: 710 + UInt64(k))
            XCTAssertTrue(h.parameterNames.isEmpty)
            GradientChecker().checkLayer(h, "cropping \(sides)")
        }
    }

    func testACropThatLeavesNothingIsAnError() {
        XCTAssertThrowsError(try Cropping2D(top: 2, bottom: 2, left: 0, right: 0).build(inputShape: [4, 5, 1]))
        XCTAssertThrowsError(try Cropping2D(top: 0, bottom: 0, left: 5, right: 0).build(inputShape: [4, 5, 1]))
        XCTAssertEqual(try Cropping2D(top: 1, bottom: 2, left: 0, right: 4).build(inputShape: [4, 5, 1]), [1, 1, 1])
        assertModelError([KerasModel.layer("Cropping2D", "c", #""cropping": [[2, 2], [0, 0]]"#)], input: "[null, 4, 5, 2]",
                         saying: "layer 'c'", "leaves nothing of a 4 x 5 image")
        assertModelError([KerasModel.layer("Cropping2D", "c")], input: "[null, 8]", saying: "layer 'c'", "[height, width, channels]")
    }

    private func cropping(_ options: String) throws -> (sides: [Int], shape: [Int]) {
        let model = try KerasModel.build([KerasModel.layer("Cropping2D", "c", options)], input: "[null, 6, 7, 2]")
        let layer = try XCTUnwrap(model.layers.first as? Cropping2D)
        return ([layer.top, layer.bottom, layer.left, layer.right], model.outputShapes[0])
    }

    func testTheThreeForms() throws {
        XCTAssertEqual(try cropping(#""cropping": 2"#).sides, [2, 2, 2, 2])
        XCTAssertEqual(try cropping(#""cropping": 2"#).shape, [2, 3, 2])
        XCTAssertEqual(try cropping("").sides, [0, 0, 0, 0], "Keras's default ((0, 0), (0, 0))")
        XCTAssertEqual(try cropping(#""cropping": [2, 3]"#).sides, [2, 2, 3, 3], "(rows, columns)")
        XCTAssertEqual(try cropping(#""cropping": [[1, 0], [1, 0]], "data_format": "channels_last""#).sides, [1, 0, 1, 0])
        XCTAssertEqual(try cropping(#""cropping": [[1, 0], [1, 0]]"#).shape, [5, 6, 2])
    }

    func testMalformedCroppingIsAOneLineError() {
        for value in ["[1, 2, 3]", "-1", #""x""#, "[[1, 2], [3]]", "[1.5, 2]", "null", "{}"] {
            assertModelError([KerasModel.layer("Cropping2D", "c", #""cropping": \#(value)"#)],
                             saying: "'c' (Cropping2D)", "option cropping is \(value)", "expected an integer")
        }
        assertModelError([KerasModel.layer("Cropping2D", "c", #""cropping": 1, "data_format": "channels_first""#)],
                         saying: "'c' (Cropping2D)", "data_format")
        assertModelError([KerasModel.layer("Cropping2D", "c", #""croping": 1"#)], saying: "'c' (Cropping2D)", "option croping")
    }
}
