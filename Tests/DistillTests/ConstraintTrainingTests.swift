import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// A Keras kernel_constraint holds through the real training step: train-teacher on a model whose
/// hidden Dense has MaxNorm(0.3), one process and two ranks.
final class ConstraintTrainingTests: FaultTestCase {
    private let model = #"{"class_name": "Sequential", "config": {"name": "maxnorm", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1], "name": "in"}}, {"class_name": "Flatten", "config": {"name": "flatten"}}, {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.2}}, {"class_name": "Dense", "config": {"name": "hidden", "units": 32, "activation": "relu", "kernel_constraint": {"module": "keras.constraints", "class_name": "MaxNorm", "config": {"max_value": 0.3, "axis": 0}, "registered_name": null}}}, {"class_name": "Dense", "config": {"name": "logits", "units": 10}}]}}"#

    /// Each hidden unit's incoming weight norm.
    private func norms(_ file: String) throws -> [Float] {
        let kernel = try XCTUnwrap(try SafeTensors.read(from: file).tensors.first { $0.name == "hidden.kernel" })
        return (0..<32).map { unit in (0..<784).reduce(Float(0)) { $0 + kernel.values[$1 * 32 + unit] * kernel.values[$1 * 32 + unit] }.squareRoot() }
    }

    func testMaxNormHoldsAfterTrainingOnOneAndTwoRanks() throws {
        let json = path("maxnorm.json")
        try model.write(toFile: json, atomically: true, encoding: .utf8)
        let arguments = ["train-teacher", "--teacher-model", json, "--teacher-epochs", "2"] + quick
        let one = try distill(arguments + ["--output", path("one.safetensors")])
        XCTAssertEqual(one.status, 0, one.output)
        let two = try ProcessRun.run(try Requirement.mpirun(), ProcessRun.mpirunFlags(ranks: 2) + [try binary.path] + arguments
                                     + ["--output", path("two.safetensors")], timeout: 300)
        XCTAssertEqual(two.status, 0, two.output)
        let (first, second) = (try norms(path("one.safetensors")), try norms(path("two.safetensors")))
        XCTAssertLessThanOrEqual(first.max()!, 0.3 + 1e-5)
        XCTAssertGreaterThan(first.max()!, 0.29, "Adam pushes the norms up to the bound: the constraint acts")
        for (a, b) in zip(first, second) { XCTAssertEqual(a, b, accuracy: 2e-4, "one and two ranks constrain alike") }
    }
}
