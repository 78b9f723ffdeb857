import Distill
import Foundation
import TestSupport
import XCTest

/// The sweep CSV and the list flags: round trips, every malformed field refused with its line, a row
/// cut off mid-write left out, rows of another sweep refused, and fuzzed input never traps.
final class SweepLogTests: XCTestCase {
    private let sweep = "00aa11bb22cc33dd"
    private var records: [SweepRecord] {
        let runs = SweepGrid(alphas: [0.1, 1], temperatures: [2.5], epochs: [3], seeds: [1, 2], trainFractions: [1, 0.05],
                             losses: ["kd", "dkd:beta=4", "kd:standardize"]).searchRuns
            + SweepGrid.confirmRuns([SweepSetting(trainFraction: 0.05, epochs: 3, method: .kd(alpha: 0.1, temperature: 2.5))], seeds: [9])
        return runs.enumerated().map {
            SweepRecord(run: $1, outcome: SweepOutcome(accuracy: 0.9 + Double($0) / 1000, loss: 0.123456789, seconds: 1.5,
                                                       agreement: $0 % 4 == 0 ? nil : 0.8125, calibrationError: $0 % 5 == 0 ? nil : 0.015625),
                        rank: $0 % 3)
        }
    }

    private var text: String { SweepLog.header + "\n" + records.map { SweepLog.row($0, sweep: sweep) + "\n" }.joined() }

    func testRowsReadBackExactly() throws {
        let (parsed, complete) = try SweepLog.parse(text, path: "s.csv", sweep: sweep)
        XCTAssertEqual(parsed, records)
        XCTAssertEqual(complete, text.utf8.count)
        XCTAssertEqual(try SweepLog.parse("", path: "s.csv", sweep: sweep).records, [])
    }

    func testARowCutOffMidWriteIsLeftOut() throws {
        let cut = String(text.dropLast(9))
        let (parsed, complete) = try SweepLog.parse(cut, path: "s.csv", sweep: sweep)
        XCTAssertEqual(parsed, Array(records.dropLast()))
        XCTAssertEqual(complete, text.utf8.count - SweepLog.row(records.last!, sweep: sweep).utf8.count - 1)
        XCTAssertEqual(try SweepLog.parse(String(SweepLog.header.prefix(10)), path: "s.csv", sweep: sweep).complete, 0)
        // Anything else after the last newline is not a half-written row: the file is refused, not cut.
        for tail in ["hello", "ffff0000", String(sweep.prefix(5)) + "x"] {
            XCTAssertThrowsError(try SweepLog.parse(String(text.dropLast()) + "\n" + tail, path: "s.csv", sweep: sweep)) {
                XCTAssertTrue("\($0)".contains("ends the file without a newline"), "\($0)")
            }
        }
        XCTAssertThrowsError(try SweepLog.parse("one line of something else", path: "s.csv", sweep: sweep)) {
            XCTAssertTrue("\($0)".contains("is not the sweep's header"), "\($0)")
        }
    }

    func testMalformedRowsAreRefusedNamingTheLineAndField() {
        let good = SweepLog.row(records[1], sweep: sweep).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(good[3], "kd")
        let cases: [(field: Int, value: String, expected: String)] = [
            (0, "ffffffffffffffff", "a run of another sweep"), (1, "final", "stage 'final'"), (2, "teacher", "kind 'teacher'"),
            (3, "kd:standardize=on", "method 'kd:standardize=on' is not a loss in canonical form"), (3, "", "method ''"),
            (3, "hinton", "method 'hinton'"), (3, "dkd", "method dkd takes no alpha or temperature"),
            (4, "0", "train_fraction '0'"), (4, "1.5", "train_fraction '1.5'"), (5, "0", "epochs '0'"), (5, "two", "epochs 'two'"),
            (6, "-1", "seed '-1'"), (7, "1.2", "alpha '1.2'"), (7, "", "alpha ''"), (8, "0", "temperature '0'"), (8, "inf", "temperature 'inf'"),
            (9, "test", "evaluated_on 'test'"), (10, "1.01", "accuracy '1.01'"), (10, "nan", "accuracy 'nan'"), (10, "", "accuracy ''"),
            (11, "-1", "loss '-1'"), (12, "2", "agreement '2'"), (12, "x", "agreement 'x'"), (13, "-0.1", "ece '-0.1'"),
            (14, "x", "seconds 'x'"), (15, "-2", "rank '-2'"),
        ]
        for (field, value, expected) in cases {
            var fields = good
            fields[field] = value
            let bad = SweepLog.header + "\n" + fields.joined(separator: ",") + "\n"
            XCTAssertThrowsError(try SweepLog.parse(bad, path: "s.csv", sweep: sweep), "\(field)=\(value)") { error in
                XCTAssertTrue("\(error)".hasPrefix("s.csv, line 2: "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "expected '\(expected)' in \(error)")
            }
        }
        let scratch = SweepLog.row(records[0], sweep: sweep).replacingOccurrences(of: ",,,", with: ",0.5,,")
        let scratchWithMethod = SweepLog.row(records[0], sweep: sweep).replacingOccurrences(of: "scratch,,", with: "scratch,kd,")
        let more: [(String, String)] = [
            ("sweep,stage\n", "line 1: expected the header"),
            (SweepLog.header + "\n" + good.dropLast().joined(separator: ",") + "\n", "expected 16 comma-separated fields, found 15"),
            (SweepLog.legacyHeader + "\n" + good.joined(separator: ",") + "\n", "expected 13 comma-separated fields, found 16"),
            (SweepLog.header + "\n" + scratch + "\n", "a scratch run has no method, alpha or temperature"),
            (SweepLog.header + "\n" + scratchWithMethod + "\n", "a scratch run has no method, alpha or temperature"),
            (text + SweepLog.row(records[3], sweep: sweep) + "\n", "is already on line 5"),
        ]
        for (bad, expected) in more {
            XCTAssertThrowsError(try SweepLog.parse(bad, path: "s.csv", sweep: sweep)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
    }

    /// Mutated files either parse to rows of this sweep or throw a message naming the file; nothing traps.
    func testFuzzedFilesParseOrFailWithAMessage() {
        var mutator = Mutator(seed: 77)
        let bytes = Array(text.utf8)
        var stages = FuzzStages()
        for _ in 0..<600 {
            let mutated = mutator.mutate(bytes)
            let text = String(decoding: mutated, as: UTF8.self)
            do {
                let parsed = try SweepLog.parse(text, path: "f.csv", sweep: sweep)
                XCTAssertLessThanOrEqual(parsed.complete, text.utf8.count)
                stages.record("parsed")
            } catch {
                XCTAssertTrue("\(error)".hasPrefix("f.csv, line "), "\(error)")
                stages.record("refused")
            }
        }
        XCTAssertGreaterThan(stages.count(["refused"]), 100, stages.report("sweep CSV fuzz"))
        XCTAssertGreaterThan(stages.count(["parsed"]), 10, stages.report("sweep CSV fuzz"))
    }

    func testTheWriterCutsAHalfRowAndAppends() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try String(text.dropLast(5)).write(toFile: path, atomically: true, encoding: .utf8)
        let read = try SweepLog.read(path, sweep: sweep)
        XCTAssertEqual(read.records.count, records.count - 1)
        let writer = try SweepLogWriter(path: path, sweep: sweep, existing: read)
        try writer.append([records.last!])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        XCTAssertEqual(try SweepLog.read(path + ".missing", sweep: sweep).exists, false)
    }

    /// A file of the header before methods, agreement and ECE (written by earlier builds, every run KD) reads as
    /// kd runs with nothing measured, and the writer rewrites it in the current form before appending.
    func testALegacyFileReadsAsKDAndIsRewrittenWhole() throws {
        let legacy = SweepLog.legacyHeader + "\n"
            + "\(sweep),search,scratch,1.0,3,1,,,validation,0.9,0.25,1.500,0\n"
            + "\(sweep),search,distilled,1.0,3,1,0.1,2.5,validation,0.925,0.125,2.000,1\n"
            + "\(sweep),confirm,distilled,1.0,3,9,0.1,2.5,test,0.9375,0.5,3.250,0\n"
            + "\(sweep),confirm,scr"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(UUID()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try legacy.write(toFile: path, atomically: true, encoding: .utf8)
        let read = try SweepLog.read(path, sweep: sweep)
        XCTAssertTrue(read.legacy)
        let kd = SweepMethod.kd(alpha: 0.1, temperature: 2.5)
        XCTAssertEqual(read.records, [
            SweepRecord(run: SweepRun(stage: .search, kind: .scratch, trainFraction: 1, epochs: 3, seed: 1),
                        outcome: SweepOutcome(accuracy: 0.9, loss: 0.25, seconds: 1.5), rank: 0),
            SweepRecord(run: SweepRun(stage: .search, kind: .distilled(kd), trainFraction: 1, epochs: 3, seed: 1),
                        outcome: SweepOutcome(accuracy: 0.925, loss: 0.125, seconds: 2), rank: 1),
            SweepRecord(run: SweepRun(stage: .confirm, kind: .distilled(kd), trainFraction: 1, epochs: 3, seed: 9),
                        outcome: SweepOutcome(accuracy: 0.9375, loss: 0.5, seconds: 3.25), rank: 0),
        ])
        let writer = try SweepLogWriter(path: path, sweep: sweep, existing: read)
        try writer.append([records.last!])
        let rewritten = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(rewritten, SweepLog.header + "\n" + (read.records + [records.last!]).map { SweepLog.row($0, sweep: sweep) + "\n" }.joined())
        XCTAssertTrue(rewritten.contains("\(sweep),search,distilled,kd,1.0,3,1,0.1,2.5,validation,0.925,0.125,,,2.000,1\n"), rewritten)
        let again = try SweepLog.read(path, sweep: sweep)
        XCTAssertFalse(again.legacy)
        XCTAssertEqual(again.records, read.records + [records.last!])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".rewrite"))
    }

    func testTheLossListIsCanonicalAndCrossesOnlyKDWithAlphaAndT() throws {
        let grid = try SweepGrid(parsingAlphas: "0.1,0.5", temperatures: "2,4,8", epochs: "1", seeds: "1,2", trainFractions: "1",
                                 losses: "kd, dkd:beta=8:T=4,dist:beta=1,kd:standardize")
        XCTAssertEqual(grid.losses, ["kd", "dkd", "dist:beta=1", "kd:standardize"])
        XCTAssertEqual(grid.methods.count, 6 + 1 + 1 + 6)
        XCTAssertEqual(grid.searchRunCount, 2 * (1 + 14))
        XCTAssertEqual(grid.searchRuns.count, 30)
        XCTAssertEqual(grid.methods.filter { $0.loss == "dkd" }, [SweepMethod(loss: "dkd", alpha: nil, temperature: nil)])
        for (text, expected) in [("dkd,dkd:beta=8", "dkd:beta=8 is dkd, which appears twice"), ("kd,,dkd", "an empty item"),
                                 ("kd,hinton", "hinton"), ("dkd:gamma=2", "gamma")] {
            XCTAssertThrowsError(try SweepGrid.losses(text), text) { XCTAssertTrue("\($0)".hasPrefix("--loss") && "\($0)".contains(expected), "\($0)") }
        }
    }

    func testListFlagsRefuseBadItemsAndNeverTrap() throws {
        XCTAssertEqual(try parseList("0.1, 0.5,1", flag: "--alpha", expected: "x", Float.init), [0.1, 0.5, 1])
        let cases: [(String, String)] = [("", "an empty item"), ("0.1,,0.5", "an empty item"), ("0.1,abc", "'abc' is not a number in [0, 1]"),
                                         ("0.5,2", "'2' is not a number in [0, 1]"), ("0.5,0.5", "0.5 appears twice")]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parseList(text, flag: "--alpha", expected: "a number in [0, 1]", Float.init, check: { (0...1).contains($0) })) {
                XCTAssertTrue("\($0)".hasPrefix("--alpha") && "\($0)".contains(expected), "\($0)")
            }
        }
        var rng = FuzzRandom(seed: 5)
        let alphabet = Array("0123456789.,-+e xnaif")
        for _ in 0..<2000 {
            let text = String((0..<rng.inRange(0...12)).map { _ in rng.pick(alphabet) })
            if let values = try? parseList(text, flag: "--seeds", expected: "a seed", UInt64.init) {
                XCTAssertEqual(Set(values).count, values.count)
                XCTAssertFalse(values.isEmpty)
            }
        }
    }
}
