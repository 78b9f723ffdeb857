import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// Every optimizer, schedule and gradient clipping against Keras 3.15's own, 1,200 steps each
/// (Tests/Fixtures/keras-optimizers, scripts/make-optimizer-fixtures.py): the Keras optimizer as
/// `keras.optimizers.serialize` wrote it is read by `KerasOptimizerConfig`, made by the registries
/// as the command line makes it, and run on the same exactly drawn gradients. The rates must be
/// Keras's within 1 ulp (float32 transcendentals) and the weights within 4e-6 relative (4e-6 absolute
/// near zero) after every 100th step and around every boundary, warm-up end and decay end. Adam's
/// weights differ in their last bits because Keras takes `1 - beta_1` in Python's double of the
/// decimal 0.9 before the cast (0.1f) and swift-distill in float32 (0.100000024f): 2.4e-7 relative
/// per step, up to 3e-6 after 1,200 steps at rate 0.01 (a float32 replica in numpy with Keras's
/// constant follows Keras to the bit).
final class KerasOptimizerTests: XCTestCase {
    struct Case: Decodable {
        let name: String, seed: UInt64, rates: [Float], values: [String: [Float]]
        let optimizer: JSONValue
    }
    struct Fixtures: Decodable { let steps: Int, scales: [Float], initial: [Float], cases: [Case] }

    static let fixtures: Fixtures = {
        let url = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-optimizers/trajectories.json")
        return try! JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
    }()

    /// A model with exactly the fixture's eight weights: Dense(2) on 3 inputs, kernel then bias.
    private func store(_ initial: [Float]) throws -> ParameterStore {
        let model = try Sequential(inputShape: [3], layers: [Dense(units: 2, gemm: Fixture.gemm)])
        XCTAssertEqual(model.parameters.count, initial.count)
        for (i, value) in initial.enumerated() { model.parameters.values.pointer[i] = value }
        return model.parameters
    }

    func testEveryOptimizerAndScheduleFollowsKeras() throws {
        let fixtures = Self.fixtures
        XCTAssertEqual(fixtures.cases.count, 11)
        XCTAssertGreaterThanOrEqual(fixtures.steps, 1000)
        var worst = (relative: 0.0, rateUlps: 0)
        for fixture in fixtures.cases {
            let rule = try KerasOptimizerConfig.rule(fixture.optimizer, source: fixture.name)
            let length = PhaseLength(stepsPerEpoch: 1, epochs: fixtures.steps)
            let optimizer = try rule.makeOptimizer(length: length)
            let schedule = try ScheduleRegistry.make(rule.schedule, learningRate: rule.learningRate, length: length)
            let parameters = try store(fixtures.initial)
            var generator = SeededGenerator(seed: fixture.seed)
            var moved = 0.0
            for step in 0..<fixtures.steps {
                let rate = schedule.rate(step), expected = fixture.rates[step]
                let ulps = Int(abs(Int64(rate.bitPattern) - Int64(expected.bitPattern)))
                XCTAssertLessThanOrEqual(ulps, 1, "\(fixture.name): rate at step \(step) is \(rate), Keras's \(expected)")
                worst.rateUlps = max(worst.rateUlps, ulps)
                for i in 0..<fixtures.scales.count {
                    parameters.gradients.pointer[i] = (Float(generator.next() >> 40) / 8_388_608 - 1) * fixtures.scales[i]
                }
                optimizer.update(parameters)
                guard let keras = fixture.values["\(step + 1)"] else { continue }
                for (i, expected) in keras.enumerated() {
                    let ours = Double(parameters.values.pointer[i]), theirs = Double(expected)
                    let error = abs(ours - theirs) / max(1, abs(theirs))
                    worst.relative = max(worst.relative, error)
                    moved = max(moved, abs(theirs - Double(fixtures.initial[i])))
                    XCTAssertLessThanOrEqual(error, 4e-6, "\(fixture.name): weight \(i) after step \(step + 1) is \(ours), Keras's \(theirs)")
                }
            }
            XCTAssertGreaterThan(moved, 0.01, "\(fixture.name): the weights move, so the comparison means something")
            XCTAssertEqual(optimizer.iterations, fixtures.steps)
        }
        print("Keras optimizer fixtures: worst weight error \(worst.relative) relative, worst rate \(worst.rateUlps) ulp")
    }
}
