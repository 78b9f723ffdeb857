import Collective
import Datasets
@testable import Distill
import NN
import TestSupport
import XCTest

/// The sweep's pieces: the pairing of distilled runs with their scratch twins, the validation split
/// and the logits picked by original id, the run-to-rank assignment, the statistics and the summary.
final class SweepTests: XCTestCase {
    private static let train = Fixture.trainPrefix(600)
    /// Logits whose row `id` holds `id` in every class, so a picked row tells which sample it came from.
    private static let idLogits: CachedTeacherLogits = {
        let table = FloatBuffer(count: train.count * 10)
        for id in 0..<train.count { for c in 0..<10 { table.pointer[id * 10 + c] = Float(id) } }
        return CachedTeacherLogits(table: table, classes: 10)
    }()

    private func sweepData(validation: Double = 0.1) throws -> SweepData {
        try SweepData(train: Self.train, logits: Self.idLogits, test: Fixture.test, validationFraction: validation)
    }

    /// At alpha 1 the distillation gradient is the cross-entropy's exactly, so a distilled run and its
    /// scratch twin (same initial weights, subset and batch order) end with the same weights, bit for bit.
    func testAlphaOneDistilledRunEqualsItsScratchTwinBitForBit() throws {
        var settings = RecipeSettings()
        settings.batchSize = 32
        let trainer = SweepTrainer(data: try sweepData(), settings: settings, gemm: Fixture.gemm)
        for fraction in [1.0, 0.3] {
            let distilled = SweepRun(stage: .search, kind: .distilled(.kd(alpha: 1, temperature: 7)), trainFraction: fraction, epochs: 1, seed: 5)
            let a = try trainer.train(distilled), b = try trainer.train(distilled.twin)
            XCTAssertEqual(a.model.parameters.values.array, b.model.parameters.values.array, "fraction \(fraction)")
            XCTAssertEqual(a.report.test, b.report.test)
            // Not vacuous: at alpha 0.5 the teacher moves the weights, and another seed starts elsewhere.
            let half = try trainer.train(SweepRun(stage: .search, kind: .distilled(.kd(alpha: 0.5, temperature: 7)), trainFraction: fraction,
                                                  epochs: 1, seed: 5))
            XCTAssertNotEqual(half.model.parameters.values.array, b.model.parameters.values.array)
            var other = distilled.twin
            other.seed = 6
            XCTAssertNotEqual(try trainer.train(other).model.parameters.values.array, b.model.parameters.values.array)
        }
    }

    func testSearchRunsAreEvaluatedOnValidationAndConfirmRunsOnTheTestSet() throws {
        let trainer = SweepTrainer(data: try sweepData(), settings: RecipeSettings(), gemm: Fixture.gemm)
        let search = SweepRun(stage: .search, kind: .scratch, trainFraction: 0.2, epochs: 1, seed: 1)
        var confirm = search
        confirm.stage = .confirm
        XCTAssertEqual(trainer.recipe(for: search).recipe.test.count, trainer.data.validationIDs.count)
        XCTAssertEqual(trainer.recipe(for: confirm).recipe.test.count, Fixture.test.count)
        XCTAssertEqual(trainer.recipe(for: search).recipe.train.count, trainer.recipe(for: confirm).recipe.train.count)
    }

    /// The validation split is class-balanced and disjoint from the pool; pool logits and a run's subset
    /// logits are the rows of their samples' original ids, and a subset is the same for the same seed.
    func testValidationSplitPoolAndSubsetsKeepTheirOriginalLogits() throws {
        let data = try sweepData()
        let validation = Set(data.validationIDs)
        XCTAssertEqual(data.validation.count, data.validationIDs.count)
        XCTAssertEqual(Double(data.validation.count), 0.1 * Double(Self.train.count), accuracy: 5)
        XCTAssertEqual(data.pool.count + data.validation.count, Self.train.count)
        let poolIDs = (0..<Self.train.count).filter { !validation.contains($0) }
        for (row, id) in poolIDs.enumerated() {
            XCTAssertEqual(data.poolLogits.table.pointer[row * 10 + 3], Float(id))
            XCTAssertEqual(data.pool.labels[row], Self.train.labels[id])
        }
        var perClass = [Int](repeating: 0, count: 10), inData = [Int](repeating: 0, count: 10)
        for id in data.validationIDs { perClass[Int(Self.train.labels[id])] += 1 }
        for label in Self.train.labels { inData[Int(label)] += 1 }
        for c in 0..<10 { XCTAssertEqual(perClass[c], max(1, Int((0.1 * Double(inData[c])).rounded())), "class \(c)") }

        let (subset, logits) = data.trainingSet(fraction: 0.25, seed: 9)
        XCTAssertEqual(data.trainingSet(fraction: 0.25, seed: 9).data.labels, subset.labels)
        XCTAssertNotEqual(data.trainingSet(fraction: 0.25, seed: 10).data.images, subset.images)
        for row in 0..<subset.count {
            let id = Int(logits.table.pointer[row * 10])
            XCTAssertFalse(validation.contains(id))
            XCTAssertEqual(subset.labels[row], Self.train.labels[id])
            XCTAssertEqual(Array(subset.images[(row * 784)..<((row + 1) * 784)]), Array(Self.train.images[(id * 784)..<((id + 1) * 784)]))
        }
        XCTAssertThrowsError(try SweepData(train: Self.train, logits: Self.idLogits.restricted(to: [0, 1]), test: Fixture.test, validationFraction: 0.1))
    }

    /// Every run exactly once, for 1, 2 and 3 ranks; each round's runs cost no more than the last round's.
    func testRunAssignmentGivesEveryRunToExactlyOneRankOnce() {
        let grid = SweepGrid(alphas: [0.1, 0.5], temperatures: [2, 4, 8], epochs: [1, 3], seeds: [1, 2, 3], trainFractions: [1, 0.1])
        let runs = grid.searchRuns
        XCTAssertEqual(runs.count, 2 * 2 * 3 * (1 + 6))
        XCTAssertEqual(Set(runs).count, runs.count)
        for size in 1...3 {
            let assignment = RunAssignment(costs: runs.map(\.cost), size: size)
            var seen: [Int] = []
            var previousCost = Double.infinity
            for round in 0..<assignment.roundCount {
                let ranks = (0..<size).compactMap { assignment.run(round: round, rank: $0) }
                XCTAssertFalse(ranks.isEmpty)
                XCTAssertTrue(round == assignment.roundCount - 1 || ranks.count == size, "only the last round may leave ranks idle")
                for index in ranks { XCTAssertLessThanOrEqual(runs[index].cost, previousCost) }
                previousCost = ranks.map { runs[$0].cost }.min()!
                seen += ranks
            }
            XCTAssertEqual(seen.sorted(), Array(runs.indices), "size \(size)")
            XCTAssertNil(assignment.run(round: assignment.roundCount, rank: 0))
        }
    }

    /// The rounds on one process: every run trained once, records in order, and a stop request ends the
    /// sweep after the round in which it arrived.
    func testRoundsTrainEveryRunOnceAndStopOnRequest() throws {
        let runs = SweepGrid(alphas: [0.5], temperatures: [2, 4], epochs: [1], seeds: [1, 2], trainFractions: [1]).searchRuns
        var trained: [SweepRun] = [], recorded: [SweepRecord] = []
        try trainAcrossRanks(runs, communicator: SingleProcess(), stopRequested: { false }, train: { run in
            trained.append(run)
            return SweepOutcome(accuracy: Double(run.seed) / 10, loss: 1, seconds: 0)
        }, finished: { recorded += $0 })
        XCTAssertEqual(trained, runs)
        XCTAssertEqual(recorded.map(\.run), runs)
        XCTAssertEqual(recorded.map(\.outcome.accuracy), runs.map { Double($0.seed) / 10 })

        var count = 0
        XCTAssertThrowsError(try trainAcrossRanks(runs, communicator: SingleProcess(), stopRequested: { count >= 2 }, train: { _ in
            count += 1
            return SweepOutcome(accuracy: 0.5, loss: 1, seconds: 0)
        }, finished: { _ in })) { error in
            XCTAssertEqual((error as? SweepStopped)?.remaining, runs.count - 2)
        }
        // A stop in the last round cannot cut the stage short; it is handed back so the next stage does not start.
        let lastRound = try trainAcrossRanks(Array(runs.prefix(1)), communicator: SingleProcess(), stopRequested: { true }, train: { _ in
            SweepOutcome(accuracy: 0.5, loss: 1, seconds: 0)
        }, finished: { _ in })
        XCTAssertTrue(lastRound)
    }

    func testPairedComparisonAgainstHandComputedFigures() throws {
        let comparison = PairedComparison(pairs: [(0.90, 0.80), (0.92, 0.85), (0.91, 0.83)])
        XCTAssertEqual(comparison.seeds, 3)
        XCTAssertEqual(comparison.distilled.mean, 0.91, accuracy: 1e-12)
        XCTAssertEqual(comparison.distilled.standardDeviation, 0.01, accuracy: 1e-12)
        XCTAssertEqual(comparison.difference.mean, 0.25 / 3, accuracy: 1e-12)
        // differences 0.10, 0.07, 0.08: sd = sqrt((1/60^2 + 1/75^2 + 1/300^2) / 2)
        let sd = ((pow(0.1 - 0.25 / 3, 2) + pow(0.07 - 0.25 / 3, 2) + pow(0.08 - 0.25 / 3, 2)) / 2).squareRoot()
        XCTAssertEqual(comparison.difference.standardDeviation, sd, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(comparison.t), (0.25 / 3) / (sd / 3.0.squareRoot()), accuracy: 1e-9)
        XCTAssertNil(PairedComparison(pairs: [(0.9, 0.8)]).t, "one seed has no spread")
        XCTAssertNil(PairedComparison(pairs: [(0.75, 0.5), (0.5, 0.25)]).t, "identical differences have no spread")
    }

    /// Distilled runs pair with the scratch twin of their own seed, and the best setting is the largest mean gain.
    func testSummaryPairsSeedBySeedAndNamesTheBestSetting() {
        func record(_ kind: SweepRun.Kind, seed: UInt64, _ accuracy: Double, stage: SweepRun.Stage = .search) -> SweepRecord {
            SweepRecord(run: SweepRun(stage: stage, kind: kind, trainFraction: 0.5, epochs: 2, seed: seed),
                        outcome: SweepOutcome(accuracy: accuracy, loss: 0.1, seconds: 1), rank: 0)
        }
        let a = SweepRun.Kind.distilled(.kd(alpha: 0.1, temperature: 2)), b = SweepRun.Kind.distilled(.kd(alpha: 0.5, temperature: 8))
        let records = [record(.scratch, seed: 1, 0.90), record(.scratch, seed: 2, 0.80), record(b, seed: 2, 0.84), record(b, seed: 1, 0.93),
                       record(a, seed: 1, 0.91), record(a, seed: 2, 0.82), record(b, seed: 3, 0.99), record(.scratch, seed: 1, 0.5, stage: .confirm)]
        let summary = SweepSummary(records: records, stage: .search)
        XCTAssertEqual(summary.groups.count, 1)
        XCTAssertEqual(summary.groups[0].scratch, [1: 0.90, 2: 0.80])
        XCTAssertEqual(summary.groups[0].settings.map(\.method.alpha), [0.1, 0.5], "settings by alpha, whatever the records' order")
        let second = summary.groups[0].settings[1]
        XCTAssertEqual(second.comparison.seeds, 2, "seed 3 has no twin")
        XCTAssertEqual(second.comparison.difference.mean, 0.035, accuracy: 1e-12)
        let best = summary.best()
        XCTAssertEqual(best.count, 1)
        XCTAssertEqual(best[0].setting, SweepSetting(trainFraction: 0.5, epochs: 2, method: .kd(alpha: 0.5, temperature: 8)))
        XCTAssertEqual(SweepGrid.confirmRuns(best.map(\.setting), seeds: [7, 8]).count, 4)
        let markdown = SweepMarkdown.render(search: summary, confirm: SweepSummary(records: records, stage: .confirm), context: ["ctx"])
        XCTAssertTrue(markdown.contains("| kd | 0.5 | 8.0 | 88.50 ± 6.36 | +3.50 ± 0.71 | 7.0 | – | – | 2 |"), markdown)
        XCTAssertTrue(markdown.contains("**Best on validation at train fraction 0.5**: alpha 0.5, T 8.0, 2 epochs"), markdown)
    }
    /// Each loss's best setting per fraction, ranked by its gain on scratch; the paired comparison against KD pairs
    /// a method's accuracy with KD's best of the same seed; agreement and ECE are the means over the runs measured.
    func testRankingTakesEachLossesBestAndPairsItWithKD() throws {
        func record(_ kind: SweepRun.Kind, seed: UInt64, _ accuracy: Double, agreement: Double? = nil) -> SweepRecord {
            SweepRecord(run: SweepRun(stage: .search, kind: kind, trainFraction: 1, epochs: 2, seed: seed),
                        outcome: SweepOutcome(accuracy: accuracy, loss: 0.1, seconds: 1, agreement: agreement, calibrationError: 0.02), rank: 0)
        }
        let weakKD = SweepRun.Kind.distilled(.kd(alpha: 0.9, temperature: 2)), kd = SweepRun.Kind.distilled(.kd(alpha: 0.1, temperature: 4))
        let dkd = SweepRun.Kind.distilled(SweepMethod(loss: "dkd", alpha: nil, temperature: nil))
        let dist = SweepRun.Kind.distilled(SweepMethod(loss: "dist", alpha: nil, temperature: nil))
        let records = [record(.scratch, seed: 1, 0.80), record(.scratch, seed: 2, 0.70), record(.scratch, seed: 3, 0.75),
                       record(weakKD, seed: 1, 0.79), record(weakKD, seed: 2, 0.71), record(weakKD, seed: 3, 0.75),
                       record(kd, seed: 1, 0.82), record(kd, seed: 2, 0.73), record(kd, seed: 3, 0.77),
                       record(dkd, seed: 1, 0.85, agreement: 0.9), record(dkd, seed: 2, 0.74, agreement: 0.8), record(dkd, seed: 3, 0.78),
                       record(dist, seed: 1, 0.80), record(dist, seed: 2, 0.70)]
        let summary = SweepSummary(records: records, stage: .search, losses: ["kd", "dkd", "dist"])
        XCTAssertEqual(summary.groups[0].settings.map(\.method.loss), ["kd", "kd", "dkd", "dist"], "by the sweep's order of losses")
        let ranking = summary.ranking()
        XCTAssertEqual(ranking.count, 1)
        let entries = ranking[0].entries
        XCTAssertEqual(entries.map(\.row.method), [SweepMethod(loss: "dkd", alpha: nil, temperature: nil), .kd(alpha: 0.1, temperature: 4),
                                                  SweepMethod(loss: "dist", alpha: nil, temperature: nil)])
        // dkd against kd's best: differences 0.03, 0.01, 0.01.
        let againstKD = try XCTUnwrap(entries[0].againstKD)
        XCTAssertEqual(againstKD.seeds, 3)
        XCTAssertEqual(againstKD.difference.mean, 0.05 / 3, accuracy: 1e-12)
        XCTAssertNil(entries[1].againstKD, "kd is not compared with itself")
        XCTAssertEqual(try XCTUnwrap(entries[2].againstKD).seeds, 2, "dist has two seeds")
        XCTAssertEqual(try XCTUnwrap(entries[0].row.agreement).mean, 0.85, accuracy: 1e-12, "over the two runs that measured it")
        XCTAssertEqual(try XCTUnwrap(entries[0].row.calibrationError).mean, 0.02, accuracy: 1e-12)
        XCTAssertEqual(summary.best().map(\.setting.method!.loss), ["kd", "dkd", "dist"])
        let confirm = SweepGrid.confirmRuns(summary.best().map(\.setting), seeds: [7, 8])
        XCTAssertEqual(confirm.count, 2 + 3 * 2, "one scratch twin per seed, shared by the three methods")
        let markdown = SweepMarkdown.render(search: summary, confirm: SweepSummary(records: [], stage: .confirm), context: [])
        XCTAssertTrue(markdown.contains("## Methods ranked (search: validation split, not yet confirmed)"), markdown)
        // dkd - scratch: 0.05, 0.04, 0.03 (mean 4 points, sd 1, t 4 / (1 / sqrt 3) = 6.9); dkd - kd: 0.03, 0.01, 0.01 (t 2.5).
        XCTAssertTrue(markdown.contains("| 1 | dkd | 2 | 79.00 ± 5.57 | +4.00 ± 1.00 | 6.9 | +1.67 ± 1.15 | 2.5 | 85.00 ± 7.07 | 2.00 ± 0.00 | 3 |"),
                      markdown)
        XCTAssertTrue(markdown.contains("| 2 | kd alpha 0.1, T 4.0 | 2 | 77.33 ± 4.51 | +2.33 ± 0.58 | 7.0 | – | – | – |"), markdown)
        XCTAssertTrue(markdown.contains("| – | scratch | 2 | 75.00 ± 5.00 | | | | | – | 2.00 ± 0.00 | 3 |"), markdown)
    }
}
