import Collective
import Distill
import Foundation
import NN
import XCTest

/// Keras reports a regularised model's loss with the penalty in it, in fit and in evaluate.
final class RegularizedLossTests: XCTestCase {
    private func model(_ regularizer: String) throws -> Sequential {
        let json = #"{"class_name": "Sequential", "config": {"name": "m", "layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1], "name": "in"}}, {"class_name": "Flatten", "config": {"name": "f"}}, {"class_name": "Dense", "config": {"name": "d", "units": 10, "kernel_regularizer": \#(regularizer)}}]}}"#
        return try ModelDescription(json: Array(json.utf8), source: "m.json").build(gemm: Fixture.gemm)
    }

    /// The same model without and with L2(0.01) on its kernel, both with the same seeded weights.
    private func pair(seed: UInt64) throws -> (plain: Sequential, penalised: Sequential) {
        let (plain, penalised) = (try model("null"), try model(#"{"class_name": "L2", "config": {"l2": 0.01}}"#))
        var rng = SeededGenerator(seed: seed)
        plain.parameters.initialize(using: &rng)
        penalised.parameters.values.pointer.update(from: plain.parameters.values.pointer, count: plain.parameters.values.count)
        return (plain, penalised)
    }

    func testEvaluationAddsThePenalty() throws {
        let (plain, penalised) = try pair(seed: 3)
        let penalty = penalised.regularizationPenalty()
        XCTAssertGreaterThan(penalty, 0.01)
        let test = Fixture.test
        let (a, b) = (try Evaluation.run(plain, on: test, batchSize: 64, communicator: SingleProcess()),
                      try Evaluation.run(penalised, on: test, batchSize: 64, communicator: SingleProcess()))
        XCTAssertEqual(b.accuracy, a.accuracy)
        XCTAssertEqual(b.loss - a.loss, penalty, accuracy: 1e-9)
    }

    /// One epoch of one batch: both models start from the same weights, so the reported training
    /// losses differ by the penalty on those weights, as Keras's fit reports it.
    func testTrainingLossAddsThePenalty() throws {
        let (plain, penalised) = try pair(seed: 5)
        let penalty = penalised.regularizationPenalty()
        let data = Fixture.train
        func firstLoss(_ model: Sequential) throws -> Double {
            let history = try Classifier(model: model, optimizer: Adam(), communicator: SingleProcess())
                .fit(data, epochs: 1, batchSize: data.count, seed: 1)
            return history.epochs[0][history.metricNames.firstIndex(of: "loss")!]
        }
        XCTAssertEqual(try firstLoss(penalised) - firstLoss(plain), penalty, accuracy: 1e-6)
    }
}
