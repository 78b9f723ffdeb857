import NN
import XCTest

/// ParameterStore.load: every tensor present with its exact shape, nothing extra; errors name the tensor.
final class ParameterStoreLoadTests: XCTestCase {
    /// conv2d.kernel [3, 3, 1, 2], conv2d.bias [2], dense.kernel [8, 3], dense.bias [3].
    private func model() throws -> Sequential {
        try Sequential(inputShape: [4, 4, 1], layers: [Conv2D(filters: 2, kernelSize: (3, 3), gemm: testGEMM), Flatten(), Dense(units: 3, gemm: testGEMM)])
    }

    private func tensors() throws -> [NamedTensor] {
        let source = try model()
        for i in 0..<source.parameters.count { source.parameters.values.pointer[i] = Float(i) * 0.5 - 3 }
        return source.parameters.namedTensors()
    }

    private func assertLoadFails(_ tensors: [NamedTensor], mentioning words: [String],
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let target = try model()
        target.parameters.values.pointer.update(repeating: 7, count: target.parameters.count)
        XCTAssertThrowsError(try target.parameters.load(tensors, source: "weights.safetensors"), file: file, line: line) { error in
            XCTAssertTrue(error is ModelError, "\(type(of: error))", file: file, line: line)
            let message = "\(error)"
            for word in words + ["weights.safetensors"] {
                XCTAssertTrue(message.contains(word), "'\(message)' does not mention \(word)", file: file, line: line)
            }
        }
        // A failed load changes nothing.
        XCTAssertTrue(target.parameters.values.array.allSatisfy { $0 == 7 }, "a failed load wrote values", file: file, line: line)
    }

    func testNamedTensorsRoundTrip() throws {
        let saved = try tensors()
        XCTAssertEqual(saved.map(\.name), ["conv2d.kernel", "conv2d.bias", "dense.kernel", "dense.bias"])
        XCTAssertEqual(saved.map(\.shape), [[3, 3, 1, 2], [2], [8, 3], [3]])
        let target = try model()
        try target.parameters.load(saved.reversed(), source: "x")   // order does not matter
        XCTAssertEqual(target.parameters.namedTensors(), saved)
    }

    func testMissingTensor() throws {
        try assertLoadFails(try tensors().filter { $0.name != "dense.bias" }, mentioning: ["'dense.bias'", "missing"])
    }

    func testExtraTensor() throws {
        try assertLoadFails(try tensors() + [NamedTensor(name: "dense_1.kernel", shape: [3, 1], values: [1, 2, 3])],
                            mentioning: ["'dense_1.kernel'"])
    }

    func testWrongShapeWithTheSameCount() throws {
        var t = try tensors()
        t[0].shape = [3, 3, 2, 1]
        try assertLoadFails(t, mentioning: ["'conv2d.kernel'", "[3, 3, 2, 1]", "[3, 3, 1, 2]"])
    }

    func testWrongShape() throws {
        var t = try tensors()
        t[2] = NamedTensor(name: "dense.kernel", shape: [9, 3], values: [Float](repeating: 0, count: 27))
        try assertLoadFails(t, mentioning: ["'dense.kernel'", "[9, 3]"])
    }

    func testValueCountDisagreeingWithShape() throws {
        var t = try tensors()
        t[1].values.append(1)
        try assertLoadFails(t, mentioning: ["'conv2d.bias'"])
    }
}
