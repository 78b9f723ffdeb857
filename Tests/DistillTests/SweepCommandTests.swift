import Foundation
import TestSupport
import XCTest

/// `distill sweep` end to end on the MNIST fixture with Keras-written teacher logits: 2 ranks (MPI or
/// threads) write the same runs as 1, a restart skips finished runs (also after a stop on request or a half-written row),
/// and bad input stops with one line before any run.
final class SweepCommandTests: XCTestCase {
    private let fixture = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path
    private let logits = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-roundtrip/mnist-small-teacher-logits.safetensors").path
    private var directory = ""
    /// 2 seeds x (scratch + 2 alphas) = 6 search runs, then the best setting's 2 confirm runs.
    private let grid = ["--alpha", "0.2,0.6", "--temperature", "4", "--seeds", "1,2", "--train-fraction", "0.25", "--student-epochs", "1",
                        "--confirm-seeds", "9"]

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func arguments(_ output: String, _ extra: [String]) -> [String] {
        ["sweep", "--data-dir", fixture, "--teacher-logits", logits, "--test-limit", "500", "--threads", "1", "--output", output] + grid + extra
    }

    private func sweep(_ output: String, _ extra: [String] = []) throws -> ProcessRun {
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let run = try ProcessRun.run(binary, arguments(output, extra), timeout: 600)
        XCTAssertFalse(run.timedOut, run.output)
        return run
    }

    private func rows(_ output: String) throws -> [String] {
        try String(contentsOfFile: "\(output)/sweep.csv", encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
    }

    /// The run's identity and results: every column but seconds and rank.
    private func results(_ rows: [String]) -> [String] {
        rows.map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(14).joined(separator: ",") }.sorted()
    }

    private func keys(_ rows: [String]) -> [String] {
        rows.map { $0.split(separator: ",", omittingEmptySubsequences: false)[1...8].joined(separator: ",") }
    }

    func testTwoRanksWriteTheSameRunsAndARestartSkipsFinishedOnes() throws {
        let one = try sweep("\(directory)/one")
        XCTAssertEqual(one.status, 0, one.output)
        let first = try rows("\(directory)/one")
        XCTAssertEqual(first.count, 8, one.output)
        XCTAssertEqual(Set(keys(first)).count, 8)
        XCTAssertTrue(one.output.contains("search [6/6]") && one.output.contains("confirm [2/2]"), one.output)
        XCTAssertTrue(one.output.contains("best on validation at train fraction 0.25: alpha "), one.output)
        let report = try String(contentsOfFile: "\(directory)/one/sweep.md", encoding: .utf8)
        XCTAssertTrue(report.contains("## Confirmation (fresh seeds, test set)") && report.contains("| 0.25 | 1 |"), report)
        if ProcessRun.findOnPath("gnuplot") != nil {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/one/heatmap-f0.25-e1.png"), one.output)
        }

        let mpirun = try Requirement.mpirun()
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let two = try ProcessRun.run(mpirun, ProcessRun.mpirunFlags(ranks: 2) + [binary.path] + arguments("\(directory)/two", []), timeout: 600)
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertTrue(two.output.contains("layout: 2 ranks"), two.output)
        let pair = try rows("\(directory)/two")
        XCTAssertEqual(results(pair), results(first), "each run is trained alone, so its figures do not depend on the ranks")
        XCTAssertEqual(Set(pair.map { $0.split(separator: ",").last! }), ["0", "1"], "both ranks trained runs")
        // Two ranks as threads of one process train their runs side by side, with the same figures.
        let threads = try sweep("\(directory)/threads", ["--ranks", "2"])
        XCTAssertEqual(threads.status, 0, threads.output)
        XCTAssertTrue(threads.output.contains("layout: 2 ranks (threads)"), threads.output)
        XCTAssertEqual(results(try rows("\(directory)/threads")), results(first))

        // A restart with every run done trains none; with a row and a half lost, it trains just those.
        let again = try sweep("\(directory)/one")
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("8 runs already done") && !again.output.contains("search [") && !again.output.contains("confirm ["),
                      again.output)
        XCTAssertEqual(try rows("\(directory)/one"), first)
        let csv = try String(contentsOfFile: "\(directory)/one/sweep.csv", encoding: .utf8)
        let cut = csv.components(separatedBy: "\n").prefix(4).joined(separator: "\n") + "\n" + String(first[3].prefix(30))
        try cut.write(toFile: "\(directory)/one/sweep.csv", atomically: true, encoding: .utf8)
        let resumed = try sweep("\(directory)/one")
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertTrue(resumed.output.contains("3 runs already done"), resumed.output)
        XCTAssertTrue(resumed.output.contains("search: 6 runs, 3 already done, 3 to train"), resumed.output)
        let after = try rows("\(directory)/one")
        XCTAssertEqual(Array(after.prefix(3)), Array(first.prefix(3)))
        XCTAssertEqual(Set(keys(after)).count, after.count, "no run repeated")
        XCTAssertEqual(results(after), results(first))

        // Narrower lists: the rows outside them stay in the CSV but leave the choice and the report.
        let narrower = try sweep("\(directory)/one", ["--alpha", "0.2"])
        XCTAssertEqual(narrower.status, 0, narrower.output)
        XCTAssertTrue(narrower.output.contains("lie outside these lists: kept there, left out of this report"), narrower.output)
        let narrowReport = try String(contentsOfFile: "\(directory)/one/sweep.md", encoding: .utf8)
        XCTAssertTrue(narrowReport.contains("| kd | 0.2 | 4.0 |") && !narrowReport.contains("| kd | 0.6 | 4.0 |"), narrowReport)
        XCTAssertGreaterThanOrEqual(try rows("\(directory)/one").count, 8)
    }

    /// Several losses: kd crossed with alpha x T, dkd and dist once per seed, all paired with the same scratch twins;
    /// each loss's best confirmed; the report ranks them against scratch and kd, with agreement and ECE measured.
    func testSeveralLossesShareTheirTwinsAndAreRanked() throws {
        let output = "\(directory)/methods"
        let run = try sweep(output, ["--loss", "kd,dkd,dist"])
        XCTAssertEqual(run.status, 0, run.output)
        let rows = try rows(output).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        // search: 2 seeds x (scratch + kd x 2 alphas + dkd + dist); confirm: seed 9's scratch twin and each loss's best.
        XCTAssertEqual(rows.filter { $0[1] == "search" }.count, 10, run.output)
        XCTAssertEqual(rows.filter { $0[1] == "confirm" }.map { $0[2] == "scratch" ? "scratch" : $0[3] }.sorted(), ["dist", "dkd", "kd", "scratch"])
        XCTAssertEqual(rows.filter { $0[3] == "dkd" }.map { $0[7] + $0[8] }, ["", "", ""], "dkd takes no alpha or T")
        for row in rows where row[1] == "search" {
            XCTAssertTrue((0...1).contains(try XCTUnwrap(Double(row[12]))), "agreement measured on validation: \(row)")
            XCTAssertTrue((0...1).contains(try XCTUnwrap(Double(row[13]))), "ECE measured: \(row)")
        }
        XCTAssertTrue(rows.filter { $0[1] == "confirm" }.allSatisfy { $0[12].isEmpty && !$0[13].isEmpty },
                      "--teacher-logits gives no test-set logits to agree with")
        XCTAssertEqual(Set(rows.map { $0[2] == "scratch" ? [$0[1], $0[6]] : [] }.filter { !$0.isEmpty }).count, 3, "one scratch twin per seed and stage")
        let report = try String(contentsOfFile: "\(output)/sweep.md", encoding: .utf8)
        XCTAssertTrue(report.contains("## Methods ranked (confirmation: fresh seeds, test set)"), report)
        XCTAssertTrue(report.contains("| vs kd (points) |") && report.contains("| dkd | 1 |") && report.contains("| dist | 1 |"), report)
        XCTAssertTrue(run.output.contains("best on validation at train fraction 0.25: dkd, 1 epoch"), run.output)
    }

    /// `--augment`: the runs of one seed share the teacher's logits of their views (one table per seed and epoch in
    /// OUTPUT/views), the scratch twins see the same views, and the report says so; without a teacher model it stops.
    func testAnAugmentedSweepComputesEachSeedsViewsOnce() throws {
        let teacher = "\(directory)/teacher.safetensors"
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let trained = try ProcessRun.run(binary, ["train-teacher", "--data-dir", fixture, "--train-limit", "600", "--teacher-epochs", "1",
                                                  "--threads", "1", "--plain", "--output", teacher], timeout: 300)
        XCTAssertEqual(trained.status, 0, trained.output)
        let output = "\(directory)/augmented"
        let arguments = ["sweep", "--data-dir", fixture, "--train-limit", "600", "--teacher", teacher, "--test-limit", "200", "--threads", "1",
                         "--output", output, "--augment", "translate=1:flip"] + grid
        let run = try ProcessRun.run(binary, arguments, timeout: 600)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertEqual(try rows(output).count, 8, run.output)
        // Seeds 1 and 2 (search) and 9 (confirm), one epoch each: three tables, each shared by its seed's distilled runs.
        let views = try FileManager.default.contentsOfDirectory(atPath: "\(output)/views").filter { $0.hasPrefix("views-") && $0.hasSuffix("-e1.safetensors") }
        XCTAssertEqual(views.count, 3, "\(views)")
        // Computed before the runs, once per seed, and found again by a second invocation.
        XCTAssertEqual(run.output.components(separatedBy: ", 0 reused from \(output)/views, 1 computed").count - 1, 3, run.output)
        let again = try ProcessRun.run(binary, arguments, timeout: 600)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertEqual(again.output.components(separatedBy: ", 1 reused from \(output)/views, 0 computed").count - 1, 3, again.output)
        let report = try String(contentsOfFile: "\(output)/sweep.md", encoding: .utf8)
        XCTAssertTrue(report.contains("augment flip:translate=1 (the teacher's logits of each seed's views computed once"), report)
        let refused = try ProcessRun.run(binary, ["sweep", "--data-dir", fixture, "--teacher-logits", logits, "--output", "\(directory)/refused",
                                                  "--augment", "flip"] + grid, timeout: 120)
        XCTAssertNotEqual(refused.status, 0, refused.output)
        XCTAssertTrue(refused.output.contains("error: --augment flip: the teacher's logits of each view are computed by its model"), refused.output)
    }

    /// SIGTERM mid-sweep: the round ends, its runs are written, the exit is 75; the same command finishes the rest.
    func testAStoppedSweepContinuesWithoutRepeatingARun() throws {
        let binary = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self))
        let output = "\(directory)/stopped"
        let longer = arguments(output, ["--seeds", "1,2,3,4,5,6", "--alpha", "0.2,0.4,0.6,0.8"])
        let process = try BackgroundProcess(binary, longer)
        XCTAssertTrue(BackgroundProcess.wait(for: 300) { process.output.contains("search [1/30]") }, process.output)
        kill(process.pid, SIGTERM)
        let status = process.exitStatus(within: 300)
        XCTAssertEqual(status, 75, process.output)
        XCTAssertTrue(process.output.contains("the sweep stopped on request") && process.output.contains("run the same command to continue"),
                      process.output)
        let kept = try rows(output)
        XCTAssertGreaterThanOrEqual(kept.count, 1)
        XCTAssertLessThan(kept.count, 30)
        let rest = try ProcessRun.run(binary, longer, timeout: 600)
        XCTAssertEqual(rest.status, 0, rest.output)
        XCTAssertTrue(rest.output.contains("\(kept.count) runs already done") || rest.output.contains("1 run already done"), rest.output)
        let all = try rows(output)
        XCTAssertEqual(Array(all.prefix(kept.count)), kept)
        XCTAssertEqual(all.count, 32)
        XCTAssertEqual(Set(keys(all)).count, 32, "no run repeated")
    }

    func testBadInputStopsWithOneLineBeforeAnyRun() throws {
        let cases: [(extra: [String], expected: String)] = [
            (["--alpha", "0.5,1.5"], "--alpha must be in [0, 1], got 1.5"),
            (["--temperature", "4,,2"], "--temperature '4,,2': an empty item"),
            (["--seeds", "1,1"], "--seeds: 1 appears twice"),
            (["--confirm-seeds", "2,3"], "--confirm-seeds must be fresh seeds, but 2 is also in --seeds"),
            (["--train-fraction", "0"], "--train-fraction: '0' is not a number in (0, 1]"),
            (["--validation-fraction", "0.9"], "--validation-fraction must be in (0, 0.5], got 0.9"),
            (["--train-limit", "100"], "holds logits for 4000 samples, but the training set has 100"),
            (["--alpha", (1...100).map { "\(Double($0) / 100)" }.joined(separator: ","), "--temperature", (1...100).map(String.init).joined(separator: ","),
              "--seeds", (1...200).map(String.init).joined(separator: ",")], "the lists make 2000200 runs"),
        ]
        for (extra, expected) in cases {
            let run = try sweep("\(directory)/bad", extra)
            XCTAssertNotEqual(run.status, 0, run.output)
            XCTAssertTrue(run.output.contains(expected), "expected '\(expected)' in \(run.output)")
            XCTAssertFalse(run.output.contains("search ["), run.output)
        }
        // The CSV of another sweep (here: another learning rate) is refused, not mixed in.
        let done = try sweep("\(directory)/other")
        XCTAssertEqual(done.status, 0, done.output)
        let other = try sweep("\(directory)/other", ["--learning-rate", "0.002"])
        XCTAssertNotEqual(other.status, 0, other.output)
        XCTAssertTrue(other.output.contains("sweep.csv, line 2: a run of another sweep"), other.output)
    }
}
