import Distill
import Foundation
import TestSupport
import XCTest

/// The sweep CSV and the list flags: round trips, every malformed field refused with its line, a row
/// cut off mid-write left out, rows of another sweep refused, and fuzzed input never traps.
final class SweepLogTests: XCTestCase {
    private let sweep = "00aa11bb22cc33dd"
    private var records: [SweepRecord] {
        let runs = SweepGrid(alphas: [0.1, 1], temperatures: [2.5], epochs: [3], seeds: [1, 2], trainFractions: [1, 0.05]).searchRuns
            + SweepGrid.confirmRuns([SweepSetting(trainFraction: 0.05, epochs: 3, alpha: 0.1, temperature: 2.5)], seeds: [9])
        return runs.enumerated().map { SweepRecord(run: $1, outcome: SweepOutcome(accuracy: 0.9 + Double($0) / 1000, loss: 0.123456789,
                                                                                    seconds: 1.5), rank: $0 % 3) }
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
        let cases: [(field: Int, value: String, expected: String)] = [
            (0, "ffffffffffffffff", "a run of another sweep"), (1, "final", "stage 'final'"), (2, "teacher", "kind 'teacher'"),
            (3, "0", "train_fraction '0'"), (3, "1.5", "train_fraction '1.5'"), (4, "0", "epochs '0'"), (4, "two", "epochs 'two'"),
            (5, "-1", "seed '-1'"), (6, "1.2", "alpha '1.2'"), (7, "0", "temperature '0'"), (7, "inf", "temperature 'inf'"),
            (8, "test", "evaluated_on 'test'"), (9, "1.01", "accuracy '1.01'"), (9, "nan", "accuracy 'nan'"), (10, "-1", "loss '-1'"),
            (11, "x", "seconds 'x'"), (12, "-2", "rank '-2'"),
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
        let more: [(String, String)] = [
            ("sweep,stage\n", "line 1: expected the header"),
            (SweepLog.header + "\n" + good.dropLast().joined(separator: ",") + "\n", "expected 13 comma-separated fields, found 12"),
            (SweepLog.header + "\n" + scratch + "\n", "a scratch run has no alpha or temperature"),
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
        let writer = try SweepLogWriter(path: path, sweep: sweep, complete: read.complete)
        try writer.append([records.last!])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), text)
        XCTAssertEqual(try SweepLog.read(path + ".missing", sweep: sweep).exists, false)
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
