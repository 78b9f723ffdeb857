import NN
import XCTest

/// The checks a layer's oneDNN path shares with every other path of the same layer, on a harness whose batch
/// size the layer has planned (`viaOneDNN`) and one of the same seed on the reference path (`reference`):
/// finite differences (the harness's sentinels catch `=` for `+=` and the reverse), the gradients equal to the
/// reference's within 1e-5 of their largest entry (float sums in another order), and the parameter
/// gradients unchanged when no input gradient is asked for.
func checkOneDNNPath(_ viaOneDNN: LayerHarness, against reference: LayerHarness, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    GradientChecker().checkLayer(viaOneDNN, "oneDNN \(what)", file: file, line: line)
    let (ours, theirs) = (viaOneDNN.analyticGradients(), reference.analyticGradients())
    for (a, b) in zip([ours.input] + ours.parameters, [theirs.input] + theirs.parameters) {
        let largest = b.map { abs(Double($0)) }.max() ?? 0
        assertClose(a.map(Double.init), b.map(Double.init), relative: 1e-5, absolute: 1e-5 * largest, what, file: file, line: line)
    }
    let full = viaOneDNN.analyticGradients(gradientSentinel: 0).parameters
    for g in viaOneDNN.gradients { g.zero() }
    _ = viaOneDNN.loss()
    viaOneDNN.layer.backward(outputGradient: viaOneDNN.upstream.pointer, inputGradient: nil, input: viaOneDNN.input.pointer,
                             output: viaOneDNN.output.pointer, batch: viaOneDNN.batch)
    XCTAssertEqual(viaOneDNN.gradients.map(\.array), full, "\(what) without an input gradient", file: file, line: line)
}
