import NN
import XCTest

/// Glorot-uniform initialisation: limit sqrt(6 / (fanIn + fanOut)), conv fans kh*kw*in and kh*kw*out.
final class GlorotUniformTests: XCTestCase {
    /// conv kernel [2, 3, 16, 32] (fans 96 / 192), dense kernel [288, 200] (57,600 values).
    private func model(seed: UInt64, prefillBiases: Bool = false) throws -> Sequential {
        let model = try Sequential(inputShape: [4, 5, 16], layers: [
            Conv2D(filters: 32, kernelSize: (2, 3), gemm: testGEMM), Flatten(), Dense(units: 200, gemm: testGEMM),
        ])
        if prefillBiases { model.parameters.values.pointer.update(repeating: 9, count: model.parameters.count) }
        var rng = SeededGenerator(seed: seed)
        model.parameters.initialize(using: &rng)
        return model
    }

    private func values(_ model: Sequential, _ name: String) throws -> [Float] {
        let entry = try XCTUnwrap(model.parameters.entries.first { $0.name == name }, "no tensor \(name)")
        return Array(model.parameters.values.array[entry.offset..<entry.offset + entry.count])
    }

    private func checkDistribution(_ w: [Float], limit: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let x = w.map(Double.init)
        XCTAssertTrue(x.allSatisfy { abs($0) <= limit }, "\(what): a value beyond ±\(limit)", file: file, line: line)
        // The values reach the limit (a too-small limit fails here and in the variance).
        XCTAssertGreaterThan(x.map(abs).max()!, 0.98 * limit, "\(what): spread", file: file, line: line)
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
        XCTAssertLessThan(abs(mean), 0.05 * limit, "\(what): mean", file: file, line: line)
        // Uniform(-l, l) has variance l^2 / 3; with >= 4,608 samples the estimate is within ~2%.
        XCTAssertEqual(variance, limit * limit / 3, accuracy: 0.1 * limit * limit / 3, "\(what): variance", file: file, line: line)
    }

    func testConvKernelUsesReceptiveFieldFans() throws {
        let m = try model(seed: 1)
        XCTAssertEqual(m.parameters.entries[0].shape, [2, 3, 16, 32])
        checkDistribution(try values(m, "conv2d.kernel"), limit: (6.0 / Double(2 * 3 * 16 + 2 * 3 * 32)).squareRoot(), "conv kernel")
    }

    func testDenseKernel() throws {
        let m = try model(seed: 2)
        XCTAssertEqual(m.parameters.entries[2].shape, [3 * 3 * 32, 200])
        checkDistribution(try values(m, "dense.kernel"), limit: (6.0 / Double(288 + 200)).squareRoot(), "dense kernel")
    }

    func testBiasesAreZero() throws {
        let m = try model(seed: 3, prefillBiases: true)
        XCTAssertEqual(try values(m, "conv2d.bias"), [Float](repeating: 0, count: 32))
        XCTAssertEqual(try values(m, "dense.bias"), [Float](repeating: 0, count: 200))
    }

    func testSameSeedSameWeightsDifferentSeedDifferentWeights() throws {
        let a = try model(seed: 42).parameters.values.array
        let b = try model(seed: 42).parameters.values.array
        let c = try model(seed: 43).parameters.values.array
        XCTAssertEqual(a, b)
        let kernelCount = 2 * 3 * 16 * 32
        let differing = zip(a, c).prefix(kernelCount).filter { $0 != $1 }.count
        XCTAssertGreaterThan(differing, kernelCount * 99 / 100)
    }

    func testSeededGeneratorIsDeterministicAndInRange() {
        var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
        let xs = (0..<1000).map { _ in a.nextFloat(in: -0.5, 0.5) }
        XCTAssertEqual(xs, (0..<1000).map { _ in b.nextFloat(in: -0.5, 0.5) })
        XCTAssertTrue(xs.allSatisfy { $0 >= -0.5 && $0 < 0.5 })
        XCTAssertEqual(Set(xs).count, 1000)
    }
}
