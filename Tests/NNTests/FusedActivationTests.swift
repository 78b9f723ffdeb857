import NN
import XCTest

/// A BatchNormalization that runs the ReLU-like activation after it (`FusedActivation`) gives the bits of
/// the two layers run apart: outputs in training and inference, parameter gradients and moving statistics,
/// over ReLU6 (values on both sides of 0 and 6), ReLU, LeakyReLU, and a pair that ends the model. The pairs
/// taken are only those whose normalisation output nothing else reads.
final class FusedActivationTests: XCTestCase {
    final class Alone: BatchReducer {
        func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    }

    /// conv, BN, ReLU6, conv, BN, ReLU, conv, BN, LeakyReLU(0.3), pooling, dense, BN, LeakyReLU(0.1) (the output).
    private func make() throws -> Sequential {
        let conv = { (filters: Int, size: Int) in Conv2D(filters: filters, kernelSize: (size, size), padding: .same, gemm: testGEMM) }
        return try Sequential(inputShape: [6, 6, 3], layers: [
            conv(8, 3), BatchNormalization(), ClippedReLU(maxValue: 6),
            conv(8, 1), BatchNormalization(), LeakyReLU(alpha: 0),
            conv(6, 3), BatchNormalization(), LeakyReLU(alpha: 0.3),
            GlobalAveragePooling2D(), Dense(units: 5, gemm: testGEMM), BatchNormalization(), LeakyReLU(alpha: 0.1),
        ])
    }

    private let normalizations = [1, 4, 7, 11]

    /// Seeded weights; gamma in [1, 5] and beta in [-1, 3], so that ReLU6 both clips at 6 and zeroes.
    private func initialize(_ model: Sequential) {
        var rng = SeededGenerator(seed: 41)
        model.parameters.initialize(using: &rng)
        for entry in model.parameters.entries where entry.name.hasSuffix(".gamma") || entry.name.hasSuffix(".beta") {
            let range: ClosedRange<Float> = entry.name.hasSuffix(".gamma") ? 1...5 : -1...3
            for i in 0..<entry.count { model.parameters.values.pointer[entry.offset + i] = rng.nextFloat(in: range.lowerBound, range.upperBound) }
        }
    }

    func testFusedPairsGiveTheBitsOfTheLayersApart() throws {
        let (fused, apart) = (try make(), try make())
        for index in normalizations { apart.keepOutput(ofLayer: index) }
        XCTAssertEqual(normalizations.map { fused.fusedActivation(ofLayer: $0) }, [2, 5, 8, 12])
        XCTAssertEqual(normalizations.map { apart.fusedActivation(ofLayer: $0) }, [nil, nil, nil, nil])
        let batch = 4
        var rng = SeededGenerator(seed: 42)
        let pixels = rng.floats(batch * 108), gradient = FloatBuffer(rng.floats(batch * 5))
        var outputs: [[[UInt32]]] = [[], []]
        for (m, model) in [fused, apart].enumerated() {
            let images = FloatBuffer(pixels)
            initialize(model)
            model.reserve(maxBatch: batch)
            for step in 0..<3 {
                model.parameters.zeroGradients()
                let pass = TrainingPass(seed: 1, step: step, sampleIDs: Array(0..<batch)[...], reducer: Alone())
                let logits = model.forward(images.pointer, batch: batch, training: pass)
                outputs[m].append((0..<batch * 5).map { logits[$0].bitPattern })
                model.backward(images.pointer, outputGradient: gradient.pointer, batch: batch)
                outputs[m].append(model.parameters.gradients.array.map(\.bitPattern))
                // A plain descent step, so the next step starts from other weights and statistics.
                for i in 0..<model.parameters.count { model.parameters.values.pointer[i] -= 0.01 * model.parameters.gradients.pointer[i] }
                images.pointer[step] += 0.5
            }
            let logits = model.forward(images.pointer, batch: batch)   // inference: the moving statistics
            outputs[m].append((0..<batch * 5).map { logits[$0].bitPattern })
            outputs[m].append(model.parameters.values.array.map(\.bitPattern))
        }
        XCTAssertEqual(outputs[0].count, outputs[1].count)
        for (block, (a, b)) in zip(outputs[0], outputs[1]).enumerated() {
            let differing = zip(a, b).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            XCTAssertTrue(differing.isEmpty, "block \(block) (forward, gradients per step; inference, weights): \(differing.count) values "
                + "differ, first at \(differing.prefix(5))")
        }
        // The ReLU6 saw values on both sides of both kinks (in the last forward, apart).
        let relu6 = Array(UnsafeBufferPointer(start: apart.output(ofLayer: 2), count: batch * 6 * 6 * 8))
        XCTAssertGreaterThan(relu6.filter { $0 == 6 }.count, 0)
        XCTAssertGreaterThan(relu6.filter { $0 == 0 }.count, 0)
        XCTAssertGreaterThan(relu6.filter { $0 > 0 && $0 < 6 }.count, 0)
    }

    /// keepOutput on a fused pair gives the normalisation's own output back, as the model apart computes it.
    func testAKeptOutputIsTheNormalisationsOwn() throws {
        let (model, apart) = (try make(), try make())
        for index in normalizations { apart.keepOutput(ofLayer: index) }
        model.keepOutput(ofLayer: 4)
        XCTAssertNil(model.fusedActivation(ofLayer: 4))
        XCTAssertEqual(model.fusedActivation(ofLayer: 1), 2)
        var rng = SeededGenerator(seed: 43)
        let images = FloatBuffer(rng.floats(2 * 108))
        var values: [[Float]] = []
        for model in [model, apart] {
            initialize(model)
            model.reserve(maxBatch: 2)
            model.forward(images.pointer, batch: 2, through: 4)
            values.append(Array(UnsafeBufferPointer(start: model.output(ofLayer: 4), count: 2 * 6 * 6 * 8)))
        }
        XCTAssertEqual(values[0], values[1])
    }

    /// Which pairs fuse: not a normalisation read twice, nor one whose activation is not next in the layer order,
    /// nor a frozen one, nor one an attached layer reads, nor an activation of another kind.
    func testOnlyPairsWhoseNormalisationOutputNothingElseReads() throws {
        let conv = { Conv2D(filters: 4, kernelSize: (1, 1), gemm: testGEMM) }
        func fusedPairs(_ model: Sequential) -> [Int] { model.layers.indices.filter { model.fusedActivation(ofLayer: $0) != nil } }
        // BN 1 read by the ReLU and the Add.
        XCTAssertEqual(fusedPairs(try Sequential(inputShape: [2, 2, 3], layers: [conv(), BatchNormalization(), LeakyReLU(alpha: 0), Add()],
                                                 inputs: [[-1], [0], [1], [1, 2]])), [])
        // The ReLU reads BN 1 but comes after another layer.
        XCTAssertEqual(fusedPairs(try Sequential(inputShape: [2, 2, 3], layers: [conv(), BatchNormalization(), conv(), LeakyReLU(alpha: 0), Add()],
                                                 inputs: [[-1], [0], [0], [1], [2, 3]])), [])
        // Frozen.
        XCTAssertEqual(fusedPairs(try Sequential(inputShape: [2, 2, 3], layers: [conv(), BatchNormalization(), ClippedReLU(maxValue: 6)],
                                                 frozen: [1])), [])
        // Read by an attached layer (a hint's regressor).
        XCTAssertEqual(fusedPairs(try Sequential(inputShape: [2, 2, 3], layers: [conv(), BatchNormalization(), ClippedReLU(maxValue: 6)],
                                                 attached: [AttachedLayer(name: "regressor", layer: conv(), reads: 1)])), [])
        // Activations it does not run: a threshold, a slope below a cap, a sigmoid.
        for activation: Layer in [ClippedReLU(threshold: 0.5), ClippedReLU(negativeSlope: 0.1, maxValue: 6), SmoothActivation(.sigmoid)] {
            XCTAssertEqual(fusedPairs(try Sequential(inputShape: [2, 2, 3], layers: [conv(), BatchNormalization(), activation])), [])
        }
        XCTAssertEqual(fusedPairs(try Sequential(inputShape: [2, 2, 3], layers: [conv(), BatchNormalization(), ClippedReLU(maxValue: 6)])), [1])
    }
}
