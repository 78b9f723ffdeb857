import Foundation
import NN
import XCTest

/// Keras's weight regularisers: the penalty of weights Keras 3 penalised (Tests/Fixtures/
/// keras-constraints/regularizers.json, scripts/make-constraint-fixtures.py), its gradient by finite
/// differences, nothing for a frozen layer, one-line errors.
final class WeightRegularizerTests: XCTestCase {
    private struct Case: Decodable { let shape: [Int], weight: [Float], keras: Double }

    private func model(_ shape: [Int], kernel: String, bias: String = "null", frozen: Bool = false) throws -> Sequential {
        let rules = #""kernel_regularizer": \#(kernel), "bias_regularizer": \#(bias)\#(frozen ? #", "trainable": false"# : "")"#
        let layers = shape.count == 2
            ? [#"{"class_name": "Dense", "config": {"name": "d", "units": \#(shape[1]), \#(rules)}}"#]
            : [#"{"class_name": "Conv2D", "config": {"name": "d", "filters": \#(shape[3]), "kernel_size": [\#(shape[0]), \#(shape[1])], \#(rules)}}"#,
               ModelDescriptionTests.layer("Flatten", "f")]
        let input = shape.count == 2 ? "[null, \(shape[0])]" : "[null, 6, 6, \(shape[2])]"
        return try ModelDescription(json: ModelDescriptionTests.keras(layers, input: input), source: "m.json").build(gemm: testGEMM)
    }

    private func values(_ model: Sequential, _ name: String) -> UnsafeMutableBufferPointer<Float> {
        let entry = model.parameters.entries.first { $0.name == name }!
        return UnsafeMutableBufferPointer(start: model.parameters.values.pointer + entry.offset, count: entry.count)
    }

    func testKerasPenalisesTheseWeightsAlike() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/keras-constraints/regularizers.json")
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let entries = try XCTUnwrap(document["cases"] as? [[String: Any]])
        let cases = try JSONDecoder().decode([Case].self, from: JSONSerialization.data(withJSONObject: entries))
        XCTAssertEqual(cases.count, 4)
        for (item, entry) in zip(cases, entries) {
            let rule = String(decoding: try JSONSerialization.data(withJSONObject: entry["regularizer"]!), as: UTF8.self)
            let built = try model(item.shape, kernel: rule)
            let kernel = values(built, "d.kernel")
            for (i, value) in item.weight.enumerated() { kernel[i] = value }
            let bias = values(built, "d.bias")
            for i in bias.indices { bias[i] = 5 }   // not regularised: must not count
            XCTAssertEqual(built.regularizationPenalty(), item.keras, accuracy: 1e-6 * max(1, item.keras), rule)
        }
    }

    func testPenaltyGradientByFiniteDifferences() throws {
        let built = try model([5, 3], kernel: #"{"class_name": "L1L2", "config": {"l1": 0.003, "l2": 0.05}}"#,
                              bias: #"{"class_name": "L1", "config": {"l1": 0.02}}"#)
        var rng = SeededGenerator(seed: 12)
        let parameters = built.parameters
        let all = UnsafeMutableBufferPointer(start: parameters.values.pointer, count: parameters.values.count)
        for i in all.indices { all[i] = rng.floatsAwayFromZero(1, margin: 0.05)[0] }   // |w| > 0.05: no step crosses L1's kink
        parameters.zeroGradients()
        built.addRegularizationGradients()
        // Scaled by 100 on both sides: entries of 1e-2 to 1e-1 become large against the checker's 1e-3 floor.
        let analytic = Array(UnsafeBufferPointer(start: parameters.gradients.pointer, count: parameters.gradients.count)).map { $0 * 100 }
        GradientChecker().check("regularisers", values: parameters.values.pointer, count: parameters.values.count,
                                analytic: analytic) { built.regularizationPenalty() * 100 }
        XCTAssertEqual(analytic.filter { $0 == 0 }.count, 0, "kernel and bias both regularised")
    }

    func testAFrozenLayerAddsNoPenalty() throws {
        let built = try model([5, 3], kernel: #"{"class_name": "L2", "config": {"l2": 0.5}}"#, frozen: true)
        let kernel = values(built, "d.kernel")
        for i in kernel.indices { kernel[i] = 1 }
        XCTAssertEqual(built.regularizationPenalty(), 0, "Keras regularises trainable weights only")
    }

    func testMalformedRegularisersAreOneLineErrors() {
        for (rule, words) in [(#"{"class_name": "L3", "config": {}}"#, ["L3", "L1, L2, L1L2"]),
                              (#"{"class_name": "L2", "config": {"l2": -1}}"#, ["l2 -1"]),
                              (#"{"class_name": "L1L2", "config": {"l1": "much"}}"#, ["l1"])] {
            XCTAssertThrowsError(try model([5, 3], kernel: rule), rule) { error in
                for word in ["'d'", "kernel_regularizer"] + words { XCTAssertTrue("\(error)".contains(word), "\(error) should say \(word)") }
            }
        }
        let depthwise = ModelDescriptionTests.keras([ModelDescriptionTests.layer("DepthwiseConv2D", "dw",
            #""kernel_size": 3, "bias_regularizer": {"class_name": "L2", "config": {"l2": 0.1}}"#)])
        XCTAssertThrowsError(try ModelDescription(json: depthwise, source: "m.json").build(gemm: testGEMM)) { error in
            XCTAssertTrue("\(error)".contains("'dw' (DepthwiseConv2D)") && "\(error)".contains("bias_regularizer"), "\(error)")
        }
    }
}
