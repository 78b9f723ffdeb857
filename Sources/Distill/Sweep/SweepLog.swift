import Foundation

/// The sweep's CSV: a header, then one row per finished run, appended and flushed as each round
/// ends, so a sweep that stops keeps every finished run and a restart with the same arguments
/// skips them. Each row carries the sweep's fingerprint (teacher logits, data, student model and
/// training settings): rows of another sweep are refused rather than mixed in.
///
/// A plain fixed-column format written and read only here (numbers and fixed words, no quoting),
/// so a strict reader that checks every field is shorter than adapting a general CSV package.
public enum SweepLog {
    public static let header = "sweep,stage,kind,train_fraction,epochs,seed,alpha,temperature,evaluated_on,accuracy,loss,seconds,rank"

    public static func row(_ record: SweepRecord, sweep: String) -> String {
        let run = record.run
        let (kind, alpha, temperature): (String, String, String) = switch run.kind {
        case .scratch: ("scratch", "", "")
        case let .distilled(a, t): ("distilled", "\(a)", "\(t)")
        }
        return [sweep, run.stage.rawValue, kind, "\(run.trainFraction)", "\(run.epochs)", "\(run.seed)", alpha, temperature, run.stage.evaluatedOn,
                "\(record.outcome.accuracy)", "\(record.outcome.loss)", String(format: "%.3f", record.outcome.seconds), "\(record.rank)"]
            .joined(separator: ",")
    }

    /// The records of `text` (a whole file). A last line without its newline is a row cut off mid-write
    /// and is left out (`complete` is then the length of the text before it). Anything else that is not
    /// a row of this sweep throws, naming `path`, the line and the field.
    public static func parse(_ text: String, path: String, sweep: String) throws -> (records: [SweepRecord], complete: Int) {
        guard !text.isEmpty else { return ([], 0) }
        let bytes = Array(text.utf8)
        let complete = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        let lines = String(decoding: bytes[..<complete], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        func fail(_ line: Int, _ why: String) -> TrainingError { TrainingError("\(path), line \(line): \(why)") }
        // What follows the last newline may only be the start of the header or of one of this sweep's rows.
        let fragment = String(decoding: bytes[complete...], as: UTF8.self)
        let expected = complete == 0 ? header : sweep + ","
        guard expected.hasPrefix(fragment) || (complete > 0 && fragment.hasPrefix(expected)) else {
            throw fail(lines.count + 1, "'\(fragment.prefix(60))' ends the file without a newline and is not "
                + (complete == 0 ? "the sweep's header" : "the start of a row of this sweep"))
        }
        guard let first = lines.first else { return ([], 0) }   // only a cut-off header: start afresh
        guard first == header else { throw fail(1, "expected the header '\(header)', found '\(first.prefix(120))'") }
        var records: [SweepRecord] = []
        var lineOf: [SweepRun: Int] = [:]
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 13 else { throw fail(number, "expected 13 comma-separated fields, found \(fields.count)") }
            guard fields[0] == sweep else {
                throw fail(number, "a run of another sweep (fingerprint \(fields[0].prefix(20)), this one \(sweep)): other teacher, data, "
                    + "student model or training settings; use another --output or remove the file")
            }
            guard let stage = SweepRun.Stage(rawValue: fields[1]) else { throw fail(number, "stage '\(fields[1].prefix(20))' is not search or confirm") }
            guard let fraction = Double(fields[3]), fraction > 0, fraction <= 1 else {
                throw fail(number, "train_fraction '\(fields[3].prefix(20))' is not a number in (0, 1]")
            }
            guard let epochs = Int(fields[4]), epochs > 0 else { throw fail(number, "epochs '\(fields[4].prefix(20))' is not a positive integer") }
            guard let seed = UInt64(fields[5]) else { throw fail(number, "seed '\(fields[5].prefix(20))' is not an unsigned integer") }
            let kind: SweepRun.Kind
            switch fields[2] {
            case "scratch":
                guard fields[6].isEmpty, fields[7].isEmpty else { throw fail(number, "a scratch run has no alpha or temperature") }
                kind = .scratch
            case "distilled":
                guard let alpha = Float(fields[6]), (0...1).contains(alpha) else {
                    throw fail(number, "alpha '\(fields[6].prefix(20))' is not a number in [0, 1]")
                }
                guard let temperature = Float(fields[7]), temperature > 0, temperature.isFinite else {
                    throw fail(number, "temperature '\(fields[7].prefix(20))' is not a positive number")
                }
                kind = .distilled(alpha: alpha, temperature: temperature)
            default: throw fail(number, "kind '\(fields[2].prefix(20))' is not scratch or distilled")
            }
            guard fields[8] == stage.evaluatedOn else {
                throw fail(number, "evaluated_on '\(fields[8].prefix(20))' does not match stage \(stage.rawValue)")
            }
            guard let accuracy = Double(fields[9]), (0...1).contains(accuracy) else {
                throw fail(number, "accuracy '\(fields[9].prefix(20))' is not a number in [0, 1]")
            }
            guard let loss = Double(fields[10]), loss >= 0, loss.isFinite else { throw fail(number, "loss '\(fields[10].prefix(20))' is not a number >= 0") }
            guard let seconds = Double(fields[11]), seconds >= 0, seconds.isFinite else {
                throw fail(number, "seconds '\(fields[11].prefix(20))' is not a number >= 0")
            }
            guard let rank = Int(fields[12]), rank >= 0 else { throw fail(number, "rank '\(fields[12].prefix(20))' is not a rank") }
            let run = SweepRun(stage: stage, kind: kind, trainFraction: fraction, epochs: epochs, seed: seed)
            if let earlier = lineOf[run] { throw fail(number, "the run '\(run.label)' (\(stage.rawValue)) is already on line \(earlier)") }
            lineOf[run] = number
            records.append(SweepRecord(run: run, outcome: SweepOutcome(accuracy: accuracy, loss: loss, seconds: seconds), rank: rank))
        }
        return (records, complete)
    }

    /// Reads `path` (no file: no records). Throws for anything but a regular file of this sweep's rows.
    public static func read(_ path: String, sweep: String) throws -> (records: [SweepRecord], complete: Int, exists: Bool) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], 0, false) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError("\(path): cannot read it (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TrainingError("\(path): not UTF-8 text; expected the sweep's CSV") }
        let (records, complete) = try parse(text, path: path, sweep: sweep)
        return (records, complete, true)
    }
}

/// Rank 0's open sweep CSV: cuts off a row left half-written, writes the header to a new file, and
/// appends and flushes rows.
public final class SweepLogWriter {
    public let path: String
    public let sweep: String
    private let handle: FileHandle

    /// `complete`: the byte length of the file's whole lines (from `SweepLog.read`).
    public init(path: String, sweep: String, complete: Int) throws {
        (self.path, self.sweep) = (path, sweep)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw TrainingError("\(path): cannot create it") }
        }
        do {
            handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(complete))
            try handle.seekToEnd()
            if complete == 0 { try handle.write(contentsOf: Data((SweepLog.header + "\n").utf8)) }
            try handle.synchronize()
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError("\(path): cannot write it (\(error.localizedDescription))")
        }
    }

    deinit { try? handle.close() }

    public func append(_ records: [SweepRecord]) throws {
        let text = records.map { SweepLog.row($0, sweep: sweep) + "\n" }.joined()
        do {
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
        } catch {
            throw TrainingError("\(path): cannot append to it (\(error.localizedDescription))")
        }
    }
}
