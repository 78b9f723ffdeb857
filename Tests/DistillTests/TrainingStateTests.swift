import Collective
import Distill
import Foundation
import NN
import XCTest

/// Training states: a round trip keeps everything, damage is caught by the checksum, rotation keeps
/// two, and a fit stopped at a step and resumed from its saved state ends bit for bit where an
/// uninterrupted fit ends.
final class TrainingStateTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func student(seed: UInt64) throws -> Sequential {
        let model = try Architecture.keras.model(.student, gemm: Fixture.gemm)
        var rng = SeededGenerator(seed: seed)
        model.parameters.initialize(using: &rng)
        return model
    }

    private func sampleState(step: Int) throws -> TrainingState {
        let model = try student(seed: 3)
        let adam = Adam()
        for i in 0..<model.parameterCount { model.parameters.gradients.pointer[i] = Float(i % 7) - 3 }
        adam.update(model.parameters)
        let position = FitPosition(epoch: 2, step: step, generator: 0xDEAD_BEEF, totals: [1.5, 0.25], seen: 96,
                                   epochs: [[0.5, 0.875]], epochSeconds: [1.25])
        return TrainingState(phase: "teacher", settings: "s", ranks: 2, position: position, model: model, optimizer: adam)
    }

    func testRoundTripKeepsEverything() throws {
        let state = try sampleState(step: 3)
        let path = try state.save(in: directory, stepsPerEpoch: 10)
        let loaded = try TrainingState.load(path)
        XCTAssertEqual(loaded.position, state.position)
        XCTAssertEqual(loaded.parameters, state.parameters)
        XCTAssertEqual(loaded.optimizer, state.optimizer)
        XCTAssertEqual(loaded.optimizer.slots.map(\.name), ["m", "v"])
        XCTAssertEqual(loaded.optimizer.iterations, 1)
        XCTAssertEqual(loaded.ranks, 2)
    }

    func testAChangedByteIsCaughtAndTheOlderStateIsUsed() throws {
        try sampleState(step: 3).save(in: directory, stepsPerEpoch: 10)
        let newer = try sampleState(step: 4).save(in: directory, stepsPerEpoch: 10)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: newer)))
        bytes[bytes.count - 5] ^= 0x10   // a weight's bits, not the header
        try Data(bytes).write(to: URL(fileURLWithPath: newer))
        XCTAssertThrowsError(try TrainingState.load(newer)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        let found = try XCTUnwrap(try TrainingState.newest(in: directory, phase: "teacher", settings: "s"))
        XCTAssertEqual(found.state.position.step, 3)
        XCTAssertEqual(found.skipped.count, 1)
        XCTAssertThrowsError(try TrainingState.newest(in: directory, phase: "teacher", settings: "other")) {
            XCTAssertTrue("\($0)".contains("other settings"), "\($0)")
        }
    }

    /// A state of another run (other data or teacher) is refused by name; an older state that would
    /// match is not taken in its place.
    func testAStateForOtherDataIsRefusedNotSkipped() throws {
        var older = try sampleState(step: 3)
        older.fingerprint = ["training data": "1000 samples"]
        try older.save(in: directory, stepsPerEpoch: 10)
        var newer = try sampleState(step: 4)
        newer.fingerprint = ["training data": "2000 samples"]
        try newer.save(in: directory, stepsPerEpoch: 10)
        XCTAssertThrowsError(try TrainingState.newest(in: directory, phase: "teacher", settings: "s", fingerprint: ["training data": "1000 samples"])) {
            XCTAssertTrue("\($0)".contains("was written with other training data (2000 samples), not this run's (1000 samples)"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingState.newest(in: directory, phase: "teacher", settings: "s",
                                                      fingerprint: ["training data": "2000 samples", "teacher": "#ab"])) {
            XCTAssertTrue("\($0)".contains("other teacher (not recorded)"), "\($0)")
        }
        let found = try XCTUnwrap(try TrainingState.newest(in: directory, phase: "teacher", settings: "s", fingerprint: ["training data": "2000 samples"]))
        XCTAssertEqual(found.state.position.step, 4)
        XCTAssertEqual(try TrainingState.load(found.path).fingerprint, ["training data": "2000 samples"])
    }

    func testRotationKeepsTheNewestTwo() throws {
        for step in 1...4 { try sampleState(step: step).save(in: directory, stepsPerEpoch: 10) }
        let files = TrainingState.files(in: directory, phase: "teacher")
        XCTAssertEqual(try files.map { try TrainingState.load($0).position.step }, [3, 4])
    }

    /// 200 samples in batches of 32: 7 steps an epoch, 3 epochs; stopped at global step 10 (epoch 2, step 3).
    func testAStoppedFitResumesBitForBit() throws {
        let data = Fixture.trainPrefix(200)
        func fit(_ model: Sequential, _ adam: Adam, control: FitControl) throws -> FitHistory {
            try Classifier(model: model, optimizer: adam, communicator: SingleProcess())
                .fit(data, epochs: 3, batchSize: 32, seed: 11, control: control)
        }
        let reference = try student(seed: 5)
        let referenceHistory = try fit(reference, Adam(), control: FitControl())

        let model = try student(seed: 5), adam = Adam()
        var saved: [TrainingState] = []
        var polls = 0
        let control = FitControl(checkpointEvery: 4, save: { position in
            saved.append(TrainingState(phase: "teacher", settings: "s", ranks: 1, position: position, model: model, optimizer: adam))
        }, stopRequested: {
            polls += 1
            return polls == 10
        })
        XCTAssertThrowsError(try fit(model, adam, control: control)) { error in
            XCTAssertEqual((error as? TrainingStopped)?.position.epoch, 2)
            XCTAssertEqual((error as? TrainingStopped)?.position.step, 3)
        }
        // Saved: after steps 4 (epoch 1), the end of epoch 1, and the stop at epoch 2, step 3.
        XCTAssertEqual(saved.map { [$0.position.epoch, $0.position.step] }, [[1, 4], [2, 0], [2, 3]])

        let resumedModel = try student(seed: 99), resumedAdam = Adam()
        try saved.last!.restore(into: resumedModel, optimizer: resumedAdam, source: "memory")
        let history = try fit(resumedModel, resumedAdam, control: FitControl(resume: saved.last!.position))
        XCTAssertEqual(resumedModel.parameters.values.array.map(\.bitPattern), reference.parameters.values.array.map(\.bitPattern))
        XCTAssertEqual(history.epochs, referenceHistory.epochs, "the epoch means carry over the sums from before the stop")
        XCTAssertEqual(resumedAdam.iterations, 21)
    }
}
