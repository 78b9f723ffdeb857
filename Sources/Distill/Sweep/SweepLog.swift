import Foundation

/// The sweep's CSV: a header, then one row per finished run, appended and flushed as each round
/// ends, so a sweep that stops keeps every finished run and a restart with the same arguments
/// skips them. Each row carries the sweep's fingerprint (teacher logits, data, student model and
/// training settings): rows of another sweep are refused rather than mixed in.
///
/// A plain fixed-column format written and read only here (numbers and fixed words, no quoting),
/// so a strict reader that checks every field is shorter than adapting a general CSV package.
public enum SweepLog {
    public static let header = "sweep,stage,kind,method,train_fraction,epochs,seed,alpha,temperature,evaluated_on,accuracy,loss,agreement,ece,seconds,rank"
    /// The header before methods, agreement and ECE were recorded: its rows are KD runs, read as such; the file is
    /// rewritten in the current form before a row is added.
    public static let legacyHeader = "sweep,stage,kind,train_fraction,epochs,seed,alpha,temperature,evaluated_on,accuracy,loss,seconds,rank"

    public static func row(_ record: SweepRecord, sweep: String) -> String {
        let (run, outcome) = (record.run, record.outcome)
        func optional(_ value: Float?) -> String { value.map { "\($0)" } ?? "" }
        let (kind, method, alpha, temperature) = run.method.map { ("distilled", $0.loss, optional($0.alpha), optional($0.temperature)) }
            ?? ("scratch", "", "", "")
        return [sweep, run.stage.rawValue, kind, method, "\(run.trainFraction)", "\(run.epochs)", "\(run.seed)", alpha, temperature,
                run.stage.evaluatedOn, "\(outcome.accuracy)", "\(outcome.loss)", outcome.agreement.map { "\($0)" } ?? "",
                outcome.calibrationError.map { "\($0)" } ?? "", String(format: "%.3f", outcome.seconds), "\(record.rank)"]
            .joined(separator: ",")
    }

    /// A parsed file: its records, the byte length of its whole lines (`complete`), and whether it has the legacy header.
    public struct Contents {
        public var records: [SweepRecord] = []
        public var complete = 0
        public var exists = false
        public var legacy = false
    }

    /// The records of `text` (a whole file). A last line without its newline is a row cut off mid-write
    /// and is left out (`complete` is then the length of the text before it). Anything else that is not
    /// a row of this sweep throws, naming `path`, the line and the field.
    public static func parse(_ text: String, path: String, sweep: String) throws -> (records: [SweepRecord], complete: Int) {
        let contents = try contents(text, path: path, sweep: sweep)
        return (contents.records, contents.complete)
    }

    static func contents(_ text: String, path: String, sweep: String) throws -> Contents {
        guard !text.isEmpty else { return Contents() }
        let bytes = Array(text.utf8)
        let complete = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        let lines = String(decoding: bytes[..<complete], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        func fail(_ line: Int, _ why: String) -> TrainingError { TrainingError("\(path), line \(line): \(why)") }
        // What follows the last newline may only be the start of the header or of one of this sweep's rows.
        let fragment = String(decoding: bytes[complete...], as: UTF8.self)
        let expected = complete == 0 ? header : sweep + ","
        guard expected.hasPrefix(fragment) || (complete == 0 && legacyHeader.hasPrefix(fragment)) || (complete > 0 && fragment.hasPrefix(expected)) else {
            throw fail(lines.count + 1, "'\(fragment.prefix(60))' ends the file without a newline and is not "
                + (complete == 0 ? "the sweep's header" : "the start of a row of this sweep"))
        }
        guard let first = lines.first else { return Contents() }   // only a cut-off header: start afresh
        guard first == header || first == legacyHeader else { throw fail(1, "expected the header '\(header)', found '\(first.prefix(120))'") }
        let legacy = first == legacyHeader
        var records: [SweepRecord] = []
        var lineOf: [SweepRun: Int] = [:]
        for (offset, line) in lines.enumerated().dropFirst() {
            let number = offset + 1
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let count = legacy ? 13 : 16
            guard fields.count == count else { throw fail(number, "expected \(count) comma-separated fields, found \(fields.count)") }
            if legacy {   // to the current columns: method kd for a distilled run, agreement and ECE not measured
                fields.insert(fields[2] == "distilled" ? LossRegistry.defaultName : "", at: 3)
                fields.insert(contentsOf: ["", ""], at: 12)
            }
            records.append(try record(fields, sweep: sweep, fail: { fail(number, $0) }))
            if let earlier = lineOf[records.last!.run] {
                throw fail(number, "the run '\(records.last!.run.label)' (\(records.last!.run.stage.rawValue)) is already on line \(earlier)")
            }
            lineOf[records.last!.run] = number
        }
        return Contents(records: records, complete: complete, exists: true, legacy: legacy)
    }

    /// One row's 16 fields, each checked; `fail` makes the error for a field.
    private static func record(_ fields: [String], sweep: String, fail: (String) -> TrainingError) throws -> SweepRecord {
        guard fields[0] == sweep else {
            throw fail("a run of another sweep (fingerprint \(fields[0].prefix(20)), this one \(sweep)): other teacher, data, "
                + "student model or training settings; use another --output or remove the file")
        }
        guard let stage = SweepRun.Stage(rawValue: fields[1]) else { throw fail("stage '\(fields[1].prefix(20))' is not search or confirm") }
        guard let fraction = Double(fields[4]), fraction > 0, fraction <= 1 else {
            throw fail("train_fraction '\(fields[4].prefix(20))' is not a number in (0, 1]")
        }
        guard let epochs = Int(fields[5]), epochs > 0 else { throw fail("epochs '\(fields[5].prefix(20))' is not a positive integer") }
        guard let seed = UInt64(fields[6]) else { throw fail("seed '\(fields[6].prefix(20))' is not an unsigned integer") }
        let kind: SweepRun.Kind
        switch fields[2] {
        case "scratch":
            guard fields[3].isEmpty, fields[7].isEmpty, fields[8].isEmpty else { throw fail("a scratch run has no method, alpha or temperature") }
            kind = .scratch
        case "distilled":
            let method = fields[3]
            guard let canonical = try? LossRegistry.resolve(method).canonical, canonical == method else {
                throw fail("method '\(method.prefix(40))' is not a loss in canonical form (--loss)")
            }
            if try LossRegistry.usesMix(method) {
                guard let alpha = Float(fields[7]), (0...1).contains(alpha) else {
                    throw fail("alpha '\(fields[7].prefix(20))' is not a number in [0, 1]")
                }
                guard let temperature = Float(fields[8]), temperature > 0, temperature.isFinite else {
                    throw fail("temperature '\(fields[8].prefix(20))' is not a positive number")
                }
                kind = .distilled(SweepMethod(loss: method, alpha: alpha, temperature: temperature))
            } else {
                guard fields[7].isEmpty, fields[8].isEmpty else { throw fail("method \(method) takes no alpha or temperature") }
                kind = .distilled(SweepMethod(loss: method, alpha: nil, temperature: nil))
            }
        default: throw fail("kind '\(fields[2].prefix(20))' is not scratch or distilled")
        }
        guard fields[9] == stage.evaluatedOn else { throw fail("evaluated_on '\(fields[9].prefix(20))' does not match stage \(stage.rawValue)") }
        func share(_ index: Int, _ name: String) throws -> Double? {
            guard !fields[index].isEmpty || name == "accuracy" else { return nil }
            guard let value = Double(fields[index]), (0...1).contains(value) else {
                throw fail("\(name) '\(fields[index].prefix(20))' is not a number in [0, 1]")
            }
            return value
        }
        let accuracy = try share(10, "accuracy")!
        guard let loss = Double(fields[11]), loss >= 0, loss.isFinite else { throw fail("loss '\(fields[11].prefix(20))' is not a number >= 0") }
        let (agreement, calibrationError) = (try share(12, "agreement"), try share(13, "ece"))
        guard let seconds = Double(fields[14]), seconds >= 0, seconds.isFinite else {
            throw fail("seconds '\(fields[14].prefix(20))' is not a number >= 0")
        }
        guard let rank = Int(fields[15]), rank >= 0 else { throw fail("rank '\(fields[15].prefix(20))' is not a rank") }
        let run = SweepRun(stage: stage, kind: kind, trainFraction: fraction, epochs: epochs, seed: seed)
        return SweepRecord(run: run, outcome: SweepOutcome(accuracy: accuracy, loss: loss, seconds: seconds, agreement: agreement,
                                                           calibrationError: calibrationError), rank: rank)
    }

    /// Reads `path` (no file: no records). Throws for anything but a regular file of this sweep's rows.
    public static func read(_ path: String, sweep: String) throws -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { return Contents() }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError("\(path): cannot read it (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TrainingError("\(path): not UTF-8 text; expected the sweep's CSV") }
        var contents = try contents(text, path: path, sweep: sweep)
        contents.exists = true
        return contents
    }
}

/// Rank 0's open sweep CSV: cuts off a row left half-written, writes the header to a new file, rewrites a
/// file of the legacy header in the current form (its rows, whole, to a temporary file renamed over it),
/// and appends and flushes rows.
public final class SweepLogWriter {
    public let path: String
    public let sweep: String
    private let handle: FileHandle

    /// `existing`: the file as `SweepLog.read` found it.
    public init(path: String, sweep: String, existing: SweepLog.Contents) throws {
        (self.path, self.sweep) = (path, sweep)
        var complete = existing.complete
        if existing.legacy {
            let text = SweepLog.header + "\n" + existing.records.map { SweepLog.row($0, sweep: sweep) + "\n" }.joined()
            let temporary = path + ".rewrite"
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
                guard rename(temporary, path) == 0 else { throw TrainingError("\(path): cannot replace it (\(String(cString: strerror(errno))))") }
            } catch let error as TrainingError {
                throw error
            } catch {
                throw TrainingError("\(temporary): cannot write it (\(error.localizedDescription))")
            }
            complete = text.utf8.count
        }
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
