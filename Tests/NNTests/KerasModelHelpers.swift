import NN
import XCTest

/// Keras JSON models assembled from layer snippets (`ModelDescriptionTests.keras` and `.layer`), for the
/// layer tests' option-parsing checks.
enum KerasModel {
    static func layer(_ className: String, _ name: String, _ options: String = "") -> String {
        ModelDescriptionTests.layer(className, name, options)
    }

    static func build(_ layers: [String], input: String = "[null, 8, 8, 1]", gemm: GEMMBackend = testGEMM) throws -> Sequential {
        try ModelDescription(json: ModelDescriptionTests.keras(layers, input: input), source: "m.json").build(gemm: gemm)
    }

    /// Runs `model` in inference on `input` (`batch` samples) and returns its logits.
    static func infer(_ model: Sequential, _ input: [Float], batch: Int) -> [Float] {
        var rng = SeededGenerator(seed: 1)
        model.parameters.initialize(using: &rng)
        model.reserve(maxBatch: batch)
        let output = input.withUnsafeBufferPointer { model.forward($0.baseAddress!, batch: batch) }
        return Array(UnsafeBufferPointer(start: output, count: batch * model.outputSize))
    }
}

/// The model must be refused with a one-line error containing every one of `words`.
func assertModelError(_ layers: [String], input: String = "[null, 8, 8, 1]", saying words: String...,
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try KerasModel.build(layers, input: input), file: file, line: line) { error in
        let message = "\(error)"
        for word in words { XCTAssertTrue(message.contains(word), "'\(message)' should contain '\(word)'", file: file, line: line) }
        XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
    }
}
