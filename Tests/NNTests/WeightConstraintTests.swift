import Foundation
import NN
import XCTest

/// Keras's weight constraints: MaxNorm, UnitNorm and NonNeg on the weights Keras 3 constrained in
/// Tests/Fixtures/keras-constraints (scripts/make-constraint-fixtures.py), through a model read from
/// JSON as a user's would be; the constraint holds after every training step; one-line errors.
final class WeightConstraintTests: XCTestCase {
    private struct Case: Decodable {
        let shape: [Int], weight: [Float], keras: [Float]
        let constraint: AnyJSON
    }

    /// Any JSON value, written back as text to put into a layer's config.
    private struct AnyJSON: Decodable {
        let text: String
        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer().decode(JSONValueBox.self)
            text = String(decoding: try JSONSerialization.data(withJSONObject: value.object, options: [.fragmentsAllowed]), as: UTF8.self)
        }
    }

    private struct JSONValueBox: Decodable {
        let object: Any
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { object = NSNull() }
            else if let number = try? container.decode(Double.self) { object = number }
            else if let text = try? container.decode(String.self) { object = text }
            else if let list = try? container.decode([JSONValueBox].self) { object = list.map(\.object) }
            else { object = try container.decode([String: JSONValueBox].self).mapValues(\.object) }
        }
    }

    private func model(_ shape: [Int], constraint: String, frozen: Bool = false) throws -> Sequential {
        let trainable = frozen ? #", "trainable": false"# : ""
        let layers = shape.count == 2
            ? [#"{"class_name": "Dense", "config": {"name": "d", "units": \#(shape[1]), "kernel_constraint": \#(constraint)\#(trainable)}}"#]
            : [#"{"class_name": "Conv2D", "config": {"name": "d", "filters": \#(shape[3]), "kernel_size": [\#(shape[0]), \#(shape[1])], "kernel_constraint": \#(constraint)\#(trainable)}}"#,
               ModelDescriptionTests.layer("Flatten", "f")]
        let input = shape.count == 2 ? "[null, \(shape[0])]" : "[null, 6, 6, \(shape[2])]"
        return try ModelDescription(json: ModelDescriptionTests.keras(layers, input: input), source: "m.json").build(gemm: testGEMM)
    }

    private func kernel(of model: Sequential) -> UnsafeMutableBufferPointer<Float> {
        let entry = model.parameters.entries.first { $0.name == "d.kernel" }!
        return UnsafeMutableBufferPointer(start: model.parameters.values.pointer + entry.offset, count: entry.count)
    }

    func testKerasConstrainsTheseWeightsAlike() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-constraints/constraints.json")
        let cases = try JSONDecoder().decode([String: [Case]].self, from: Data(contentsOf: url).dropping(key: "producer"))["cases"]!
        XCTAssertEqual(cases.count, 6)
        for item in cases {
            let built = try model(item.shape, constraint: item.constraint.text)
            let weights = kernel(of: built)
            for (i, value) in item.weight.enumerated() { weights[i] = value }
            built.applyConstraints()
            for (i, expected) in item.keras.enumerated() {
                XCTAssertEqual(weights[i], expected, accuracy: 2e-6 * max(1, abs(expected)), "\(item.constraint.text) [\(i)]")
                XCTAssertEqual(weights[i].sign, expected.sign, "\(item.constraint.text) [\(i)]: Keras's sign (NonNeg makes a negative +0)")
            }
        }
    }

    /// A Dense kernel under MaxNorm(0.5) after each Adam step: every unit's incoming norm within 0.5; the bias free.
    func testTheConstraintHoldsAfterEveryStep() throws {
        let built = try model([6, 4], constraint: #"{"class_name": "MaxNorm", "config": {"max_value": 0.5, "axis": 0}}"#)
        var rng = SeededGenerator(seed: 4)
        built.parameters.initialize(using: &rng)
        built.reserve(maxBatch: 8)
        let input = FloatBuffer(rng.floats(8 * 6, in: -3, 3)), gradient = FloatBuffer(rng.floats(8 * 4))
        let adam = Adam(learningRate: 0.1)
        var largest: Float = 0
        for _ in 0..<5 {
            built.parameters.zeroGradients()
            built.forward(input.pointer, batch: 8)
            built.backward(input.pointer, outputGradient: gradient.pointer, batch: 8)
            adam.update(built.parameters)
            built.applyConstraints()
            let weights = kernel(of: built)
            for unit in 0..<4 {
                let norm = (0..<6).reduce(Float(0)) { $0 + weights[$1 * 4 + unit] * weights[$1 * 4 + unit] }.squareRoot()
                XCTAssertLessThanOrEqual(norm, 0.5 + 1e-6)
                largest = max(largest, norm)
            }
        }
        XCTAssertGreaterThan(largest, 0.49, "the constraint binds (the steps push the norms past 0.5)")
    }

    /// A frozen layer keeps its weights, constraint or not (Keras constrains only what it updates).
    func testAFrozenLayerIsNotConstrained() throws {
        let built = try model([5, 3], constraint: #""non_neg""#, frozen: true)
        let weights = kernel(of: built)
        for i in weights.indices { weights[i] = Float(i) - 7 }
        built.applyConstraints()
        XCTAssertEqual(Array(weights), (0..<15).map { Float($0) - 7 })
    }

    func testMalformedConstraintsAreOneLineErrors() {
        for (constraint, words) in [(#"{"class_name": "MinMaxNorm", "config": {}}"#, ["MinMaxNorm", "MaxNorm, UnitNorm, NonNeg"]),
                                    (#"{"class_name": "MaxNorm", "config": {"max_value": -1}}"#, ["max_value -1"]),
                                    (#"{"class_name": "MaxNorm", "config": {"axis": "rows"}}"#, ["axis"]),
                                    (#"{"class_name": "UnitNorm", "config": {"axis": 2}}"#, ["axis", "outside", "[5, 3]"]),
                                    (#""l2""#, ["kernel_constraint"])] {
            XCTAssertThrowsError(try model([5, 3], constraint: constraint), constraint) { error in
                for word in ["'d'"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
        let depthwise = ModelDescriptionTests.keras([ModelDescriptionTests.layer("DepthwiseConv2D", "dw",
            #""kernel_size": 3, "bias_constraint": {"class_name": "NonNeg", "config": {}}"#)])
        XCTAssertThrowsError(try ModelDescription(json: depthwise, source: "m.json").build(gemm: testGEMM)) { error in
            XCTAssertTrue("\(error)".contains("'dw' (DepthwiseConv2D)") && "\(error)".contains("bias_constraint"), "\(error)")
        }
    }
}

private extension Data {
    /// The JSON object without one key (the fixture's `producer` string beside its cases).
    func dropping(key: String) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: self) as! [String: Any]
        object[key] = nil
        return try JSONSerialization.data(withJSONObject: object)
    }
}
