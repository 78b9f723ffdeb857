import Collective
import Datasets
@testable import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// Best on validation: the decisions of Keras 3.15's own `EarlyStopping(restore_best_weights=True)`
/// on scripted values (Tests/Fixtures/keras-optimizers/early-stopping.json, made by
/// scripts/make-early-stopping-fixtures.py), and a real fit that ends on its best epoch's weights.
final class ValidationMonitorTests: XCTestCase {
    struct Case: Decodable { let monitor: String, values: [Double], patience: Int?, epochs_trained: Int, restored_epoch: Int }
    struct Fixtures: Decodable { let cases: [Case] }

    func testDecisionsAreKerasEarlyStoppings() throws {
        let url = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-optimizers/early-stopping.json")
        let fixtures = try JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixtures.cases.count, 19)
        let data = Fixture.trainPrefix(10)
        for fixture in fixtures.cases {
            let monitor = ValidationMonitor(data: data, batchSize: 10, quantity: try XCTUnwrap(ValidationMonitor.Quantity(rawValue: fixture.monitor)),
                                            restoreBest: true, patience: fixture.patience)
            var trained = 0
            for (index, value) in fixture.values.enumerated() {
                monitor.record(value, epoch: index + 1) { [Float(index + 1)] }   // the weights name their epoch
                trained = index + 1
                if monitor.stops { break }
            }
            let label = "\(fixture.monitor) \(fixture.values), patience \(fixture.patience.map(String.init) ?? "none")"
            XCTAssertEqual(trained, fixture.epochs_trained, "epochs trained, \(label)")
            XCTAssertEqual(monitor.best?.epoch, fixture.restored_epoch, "epoch restored, \(label)")
            XCTAssertEqual(monitor.bestWeights, [Float(fixture.restored_epoch)], label)
        }
    }

    /// A fit of 6 epochs on a small validation split ends with exactly the weights it had after the
    /// epoch of lowest val_loss, which the history reports, and with patience stops early.
    func testAFitEndsWithItsBestEpochsWeights() throws {
        let all = Fixture.trainPrefix(600)
        let (validationIDs, pool) = try validationSplit(all, fraction: 0.1)
        XCTAssertEqual(validationIDs.count + pool.count, 600)
        XCTAssertTrue(Set(validationIDs).isDisjoint(with: pool))
        let model = try Sequential(inputShape: [28, 28, 1], layers: [Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
        var rng = SeededGenerator(seed: 11)
        model.parameters.initialize(using: &rng)
        final class Snapshots: TrainingObserver {
            let model: Sequential
            var weights: [[Float]] = []
            init(_ model: Sequential) { self.model = model }
            func epochBegan(epoch: Int, epochs: Int, steps: Int) {}
            func stepEnded(step: Int, steps: Int, metrics: MetricSnapshot) {}
            func epochEnded(epoch: Int, epochs: Int, metrics: MetricSnapshot, seconds: Double) { weights.append(model.parameters.values.array) }
        }
        let snapshots = Snapshots(model)
        let monitor = ValidationMonitor(data: all.subset(validationIDs), batchSize: 32, restoreBest: true)
        // A rate high enough that val_loss rises again after its best.
        let classifier = Classifier(model: model, optimizer: SGD(schedule: ConstantLearningRate(0.5), momentum: 0.9), communicator: SingleProcess())
        let history = try classifier.fit(all.subset(pool), epochs: 6, batchSize: 32, seed: 2, observer: snapshots, validation: monitor)
        XCTAssertEqual(history.metricNames, ["loss", "accuracy", "val_loss", "val_accuracy"])
        let losses = history.epochs.map { $0[2] }
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        XCTAssertEqual(history.restoredEpoch, best)
        XCTAssertEqual(model.parameters.values.array, snapshots.weights[best - 1], "the best epoch's weights, bit for bit")
        XCTAssertNotEqual(snapshots.weights.last, snapshots.weights[best - 1], "a later epoch's weights differ, so the test means something")
        print("val_loss per epoch \(losses), restored epoch \(best)")
    }
}
