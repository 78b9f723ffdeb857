import NN
import XCTest

/// The Keras example's teacher and student: shapes, parameter counts and checkpoint names.
final class SequentialShapeTests: XCTestCase {
    static func kerasExample(filters: (Int, Int)) throws -> Sequential {
        try Sequential(inputShape: [28, 28, 1], layers: [
            Conv2D(filters: filters.0, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: testGEMM),
            LeakyReLU(alpha: 0.2),
            MaxPooling2D(poolSize: (2, 2), strides: (1, 1), padding: .same),
            Conv2D(filters: filters.1, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: testGEMM),
            Flatten(),
            Dense(units: 10, gemm: testGEMM),
        ])
    }

    private let names = ["conv2d.kernel", "conv2d.bias", "conv2d_1.kernel", "conv2d_1.bias", "dense.kernel", "dense.bias"]

    func testTeacher() throws {
        let teacher = try Self.kerasExample(filters: (256, 512))
        XCTAssertEqual(teacher.outputShapes, [[14, 14, 256], [14, 14, 256], [14, 14, 256], [7, 7, 512], [25088], [10]])
        XCTAssertEqual(teacher.inputSize, 784)
        XCTAssertEqual(teacher.outputSize, 10)
        let conv1 = 3 * 3 * 1 * 256 + 256, conv2 = 3 * 3 * 256 * 512 + 512, dense = 25088 * 10 + 10
        XCTAssertEqual([conv1, conv2, dense], [2560, 1_180_160, 250_890])
        XCTAssertEqual(teacher.parameterCount, 1_433_610)
        XCTAssertEqual(teacher.parameters.entries.map(\.name), names)
        XCTAssertEqual(teacher.parameters.entries.map(\.shape),
                       [[3, 3, 1, 256], [256], [3, 3, 256, 512], [512], [25088, 10], [10]])
    }

    func testStudent() throws {
        let student = try Self.kerasExample(filters: (16, 32))
        XCTAssertEqual(student.outputShapes, [[14, 14, 16], [14, 14, 16], [14, 14, 16], [7, 7, 32], [1568], [10]])
        XCTAssertEqual(student.parameterCount, (9 * 16 + 16) + (9 * 16 * 32 + 32) + (1568 * 10 + 10))
        XCTAssertEqual(student.parameterCount, 20_490)
        XCTAssertEqual(student.parameters.entries.map(\.name), names)
    }

    func testEntriesTileTheFlatBuffers() throws {
        let student = try Self.kerasExample(filters: (16, 32))
        var offset = 0
        for entry in student.parameters.entries {
            XCTAssertEqual(entry.offset, offset, entry.name)
            offset += entry.count
        }
        XCTAssertEqual(offset, student.parameters.count)
        XCTAssertEqual(student.parameters.gradients.count, student.parameters.count)
    }

    func testNamesCountPerKind() throws {
        let model = try Sequential(inputShape: [8], layers: [Dense(units: 4, gemm: testGEMM), LeakyReLU(alpha: 0), Dense(units: 3, gemm: testGEMM), LeakyReLU(), Dense(units: 2, gemm: testGEMM)])
        XCTAssertEqual(model.parameters.entries.map(\.name),
                       ["dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias", "dense_2.kernel", "dense_2.bias"])
    }

    func testStudentForwardOnABatch() throws {
        // The student runs end to end on two images and gives finite logits of the right count.
        let student = try Self.kerasExample(filters: (16, 32))
        var rng = SeededGenerator(seed: 5)
        student.parameters.initialize(using: &rng)
        student.reserve(maxBatch: 2)
        let images = FloatBuffer(rng.floats(2 * 784, in: 0, 1))
        let logits = student.forward(images.pointer, batch: 2)
        let values = Array(UnsafeBufferPointer(start: logits, count: 20))
        XCTAssertTrue(values.allSatisfy(\.isFinite))
        XCTAssertNotEqual(Array(values[0..<10]), Array(values[10..<20]))
    }
}
