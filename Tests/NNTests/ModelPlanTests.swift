import Foundation
import NN
import XCTest

/// `ModelDescription.plan()` answers what `build(gemm:)` makes (shapes, names, parameter counts,
/// FLOPs) without making it, and refuses the same models with the same words.
final class ModelPlanTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func assertPlanMatchesBuild(_ bytes: [UInt8], source: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let plan = try ModelDescription(json: bytes, source: source).plan()
        let model = try ModelDescription(json: bytes, source: source).build(gemm: OpenBLASGEMM())
        XCTAssertEqual(plan.inputShape, model.inputShape, source, file: file, line: line)
        XCTAssertEqual(plan.layers.map(\.name), model.layerNames, source, file: file, line: line)
        XCTAssertEqual(plan.layers.map(\.kind), model.layers.map(\.kind), source, file: file, line: line)
        XCTAssertEqual(plan.layers.map(\.outputShape), model.outputShapes, source, file: file, line: line)
        XCTAssertEqual(plan.layers.map(\.parameterCount), model.layers.map { $0.parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } },
                       source, file: file, line: line)
        XCTAssertEqual(plan.layers.map(\.forwardFLOPsPerSample), model.layers.indices.map(model.forwardFLOPs(ofLayer:)),
                       source, file: file, line: line)
        XCTAssertEqual(plan.parameterCount, model.parameterCount, source, file: file, line: line)
        XCTAssertEqual(plan.outputSize, model.outputSize, source, file: file, line: line)
        XCTAssertEqual(plan.trainingFLOPsPerSample, model.trainingFLOPsPerSample, source, file: file, line: line)
        XCTAssertGreaterThan(plan.trainingFLOPsPerSample, 0, "a model that multiplies: \(source)", file: file, line: line)
    }

    private func json(_ path: URL) throws -> [UInt8] { Array(try Data(contentsOf: path)) }

    private func layer(_ className: String, _ name: String, _ options: String = "") -> String {
        ModelDescriptionTests.layer(className, name, options)
    }

    func testPresetsPlanAsTheyBuild() throws {
        let directory = Self.repository.appendingPathComponent("Sources/Distill/Presets")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(names, ["hidden-student.json", "hidden-teacher.json", "keras-student.json", "keras-teacher.json"])
        for name in names { try assertPlanMatchesBuild(try json(directory.appendingPathComponent(name)), source: name) }
        // The figures `distill summary` prints for the Keras teacher.
        let teacher = try ModelDescription(json: try json(directory.appendingPathComponent("keras-teacher.json")), source: "t").plan()
        XCTAssertEqual(teacher.parameterCount, 1_433_610)
        XCTAssertEqual(teacher.outputSize, 10)
        XCTAssertEqual(teacher.trainingFLOPsPerSample, 350_128_128)
    }

    func testKerasWrittenModelsPlanAsTheyBuild() throws {
        let directory = Self.repository.appendingPathComponent("Tests/Fixtures/keras-roundtrip")
        for name in ["every-layer-teacher.json", "every-layer-student.json"] {
            try assertPlanMatchesBuild(try json(directory.appendingPathComponent(name)), source: name)
        }
    }

    /// The models of ModelDescriptionTests: activation parts, a linear Activation that is no layer, a final softmax.
    func testDescriptionTestModelsPlanAsTheyBuild() throws {
        try assertPlanMatchesBuild(ModelDescriptionTests.keras([
            layer("Conv2D", "conv2d_2", #""filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "activation": "relu""#),
            layer("MaxPooling2D", "max_pooling2d_1", #""pool_size": [2, 2], "padding": "valid""#),
            layer("Flatten", "flatten_3"),
            layer("Dense", "dense_7", #""units": 3, "activation": "softmax""#),
        ]), source: "named")
        try assertPlanMatchesBuild(ModelDescriptionTests.keras([
            layer("Conv2D", "c", #""filters": 4, "kernel_size": 3, "padding": "same", "use_bias": false, "kernel_initializer": "ones""#),
            layer("ReLU", "r", #""max_value": null, "negative_slope": 0.0, "threshold": 0.0"#),
            layer("AveragePooling2D", "a", #""pool_size": 2"#),
            layer("Activation", "linear", #""activation": "linear""#),
            layer("Activation", "relu", #""activation": "relu""#),
            layer("GlobalAveragePooling2D", "g", #""keepdims": false"#),
            layer("Dense", "d", #""units": 3, "bias_initializer": {"class_name": "Ones", "config": {}}"#),
            layer("Activation", "s", #""activation": "softmax""#),
        ]), source: "every registered type")
        try assertPlanMatchesBuild(ModelDescriptionTests.keras([
            layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "strides": 1, "padding": "valid""#),
            layer("LeakyReLU", "l", #""alpha": 0.1"#),
            layer("BatchNormalization", "b"),
            layer("Dropout", "x", #""rate": 0.25"#),
            layer("Flatten", "f"),
            layer("Dense", "d", #""units": 2, "use_bias": false"#),
        ]), source: "keras 2 spellings")
    }

    /// ModelErrorTests' and ModelDescriptionTests' refusals, at make time and at build time: one text either way.
    func testMalformedModelsGiveTheSameErrorBothWays() {
        let cases: [(layers: [String], input: String, word: String)] = [
            ([layer("Conv2D", "big", #""filters": 2, "kernel_size": 5"#)], "[null, 3, 3, 1]", "layer 'big': "),
            ([layer("Conv2D", "c", #""filters": 2, "kernel_size": 3, "strides": 2"#), layer("MaxPooling2D", "p", #""pool_size": 3"#)],
             "[null, 4, 4, 1]", "layer 'p': "),
            ([layer("Conv2D", "c", #""filters": 2, "kernel_size": 3"#), layer("LayerScale", "head", #""init_values": 1.0, "projection_dim": 3"#)],
             "[null, 28, 28, 1]", "projection_dim 3"),
            ([layer("Activation", "linear", #""activation": "linear""#)], "[null, 4]", "at least one layer"),
            ([layer("Conv2D", "c", #""filters": 0, "kernel_size": 3"#)], "[null, 4, 4, 1]", "filters is 0"),
            ([layer("Flatten", "f"), layer("Dense", "d", #""units": 16777216"#)], "[null, 256, 256, 1]", "2^31"),
            ([layer("Flatten", "f"), layer("Dense", "d", #""units": 4, "activation": "softmax""#), layer("Dense", "e", #""units": 2"#)],
             "[null, 8, 8, 1]", "last"),
        ]
        for (layers, input, word) in cases {
            let bytes = ModelDescriptionTests.keras(layers, input: input)
            func message(_ body: (ModelDescription) throws -> Void) -> String? {
                do {
                    try body(try ModelDescription(json: bytes, source: "m.json"))
                    return nil
                } catch {
                    XCTAssertTrue(error is ModelError, "\(type(of: error))")
                    return "\(error)"
                }
            }
            let planned = message { _ = try $0.plan() }
            let built = message { _ = try $0.build(gemm: OpenBLASGEMM()) }
            XCTAssertNotNil(planned, word)
            XCTAssertEqual(planned, built)
            XCTAssertTrue(planned?.contains(word) ?? false, "'\(planned ?? "")' does not mention \(word)")
        }
    }
}
