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

/// A 3 x 3 convolution from 64 to 128 channels (fan_in 576, fan_out 1152) whose kernel starts as `initializer` (a
/// Keras config's JSON text), drawn with seed 5: its values, the initializer read and the model.
func drawnKernel(_ initializer: String) throws -> (values: [Float], initializer: Initializer, model: Sequential) {
    let model = try KerasModel.build([KerasModel.layer("Conv2D", "c", #""filters": 128, "kernel_size": [3, 3], "kernel_initializer": \#(initializer)"#)],
                                     input: "[null, 5, 5, 64]")
    var rng = SeededGenerator(seed: 5)
    model.parameters.initialize(using: &rng)
    guard let entry = model.parameters.entries.first(where: { $0.name == "c.kernel" }) else { throw ModelError("no c.kernel") }
    return (Array(UnsafeBufferPointer(start: model.parameters.values.pointer + entry.offset, count: entry.count)), entry.initializer, model)
}

/// The mean and (population) standard deviation of `values`, in Double.
func moments(_ values: [Float]) -> (mean: Double, deviation: Double) {
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
    return (mean, variance.squareRoot())
}
