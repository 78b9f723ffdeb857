import Foundation

/// A child process left running while a test acts on it (stops, kills or signals it), with its
/// output in a file. The environment is the one `ProcessRun.run` gives.
public final class BackgroundProcess {
    public let process = Process()
    private let log: URL
    private let handle: FileHandle

    public init(_ executable: URL, _ arguments: [String]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("background-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        handle = try FileHandle(forWritingTo: log)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessRun.childEnvironment()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? handle.close()
        try? FileManager.default.removeItem(at: log)
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    public var pid: Int32 { process.processIdentifier }

    /// Polls `condition` every `interval` seconds for up to `timeout` seconds; whether it came true.
    @discardableResult
    public static func wait(for timeout: TimeInterval, every interval: TimeInterval = 0.05, until condition: () -> Bool) -> Bool {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if condition() { return true }
            Thread.sleep(forTimeInterval: interval)
        }
        return condition()
    }

    /// Waits up to `timeout` seconds for the process to end; its exit status, or nil if it still runs.
    public func exitStatus(within timeout: TimeInterval) -> Int32? {
        guard Self.wait(for: timeout, until: { !process.isRunning }) else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Lets this process's `count` children named `name` run in slices of `slice` seconds, stopped
    /// (SIGSTOP) between slices, until `condition` holds while they are stopped; returns them still
    /// stopped, or nil (and continues them) when the process ends or `timeout` seconds pass first.
    /// Polling a running job can see a file appear and then act too late, after the job went on to
    /// its end (a busy machine, a short run); here the job has gone at most one slice past the check.
    public func stopChildren(named name: String, count: Int, slice: TimeInterval = 0.01, timeout: TimeInterval,
                             when condition: () -> Bool) -> [Int32]? {
        inSlices(find: { self.children(named: name) }, count: count, slice: slice, timeout: timeout, until: condition)
    }

    /// `stopChildren` for the process itself (one process, whatever its threads): whether it is stopped
    /// with `condition` true.
    public func stop(slice: TimeInterval = 0.01, timeout: TimeInterval, when condition: () -> Bool) -> Bool {
        inSlices(find: { [self.pid] }, count: 1, slice: slice, timeout: timeout, until: condition) != nil
    }

    private func inSlices(find: () -> [Int32], count: Int, slice: TimeInterval, timeout: TimeInterval, until condition: () -> Bool) -> [Int32]? {
        let start = Date()
        var stopped: [Int32] = []
        while Date().timeIntervalSince(start) < timeout && process.isRunning {
            // The ranks start in any order and do nothing alone: until all `count` run, only look for them.
            if stopped.count < count {
                stopped = find()
                Thread.sleep(forTimeInterval: slice)
                continue
            }
            for pid in stopped { kill(pid, SIGSTOP) }
            // A signal is delivered, not obeyed, when kill returns: wait until each one shows as stopped.
            while stopped.contains(where: { Self.state(of: $0).map { $0 != "T" && $0 != "Z" } ?? false }) {
                Thread.sleep(forTimeInterval: 0.001)
            }
            if condition() { return stopped }
            for pid in stopped { kill(pid, SIGCONT) }
            Thread.sleep(forTimeInterval: slice)
        }
        for pid in stopped { kill(pid, SIGCONT) }
        return nil
    }

    /// Waits up to `timeout` seconds until each of `pids` has `signal` pending (stopped processes keep it
    /// until continued: mpirun forwards a signal it gets to its ranks) or is gone; whether that happened.
    public static func waitForPending(_ signal: Int32, in pids: [Int32], timeout: TimeInterval) -> Bool {
        let bit = UInt64(1) << UInt64(signal - 1)
        return wait(for: timeout, every: 0.001) {
            pids.allSatisfy { pid in
                guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return true }
                // SigPnd: pending for the thread; ShdPnd: for the whole process. Hex masks, bit n - 1 for signal n.
                return status.split(separator: "\n").contains { line in
                    (line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:"))
                        && UInt64(line.split(separator: "\t").last.map(String.init) ?? "", radix: 16).map { $0 & bit != 0 } == true
                } || state(of: pid) == "Z"
            }
        }
    }

    /// The state letter of process `pid` in /proc (R running, S sleeping, T stopped, ...), nil once it is gone.
    private static func state(of pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")"),
              let letter = stat[stat.index(after: close)...].first(where: { $0 != " " }) else { return nil }
        return letter
    }

    /// Process ids whose parent is this process and whose command is `name` (from /proc), sorted.
    public func children(named name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return stat[stat.index(after: open)..<close] == name && fields.count > 1 && Int32(fields[1]) == self.pid
        }.sorted()
    }
}
