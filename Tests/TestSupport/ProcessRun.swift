import Foundation

/// One finished run of a child process: its exit status and its stdout and stderr together.
public struct ProcessRun {
    public let status: Int32
    public let output: String
    public let timedOut: Bool

    /// Runs `executable` with `arguments`, killing it after `timeout` seconds.
    ///
    /// The environment is this process's without the variables an MPI launcher sets
    /// (so a test run under mpirun does not make the child think it is a rank), plus
    /// permission for Open MPI to run as root and one OpenBLAS thread, plus `extraEnvironment`.
    public static func run(_ executable: URL, _ arguments: [String], timeout: TimeInterval = 120,
                           extraEnvironment: [String: String] = [:]) throws -> ProcessRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = childEnvironment(extraEnvironment)

        // A file, not a pipe: a full pipe would block a chatty child until the timeout.
        let logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("process-run-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: logURL) }
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }
        process.standardOutput = log
        process.standardError = log

        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()  // SIGTERM; mpirun passes it on to its ranks
            if finished.wait(timeout: .now() + 10) == .timedOut { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let output = String(decoding: try Data(contentsOf: logURL), as: UTF8.self)
        return ProcessRun(status: process.terminationStatus, output: output, timedOut: timedOut)
    }

    /// This process's environment without the variables an MPI launcher sets, plus permission for
    /// Open MPI to run as root, one OpenBLAS thread, and `extra`.
    public static func childEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("OMPI_") && !key.hasPrefix("OMPI_MCA_")) && !key.hasPrefix("PMIX_") && !key.hasPrefix("PMI_")
        }
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        return environment.merging(extra) { _, new in new }
    }

    /// The first `name` executable on `PATH`, if any.
    public static func findOnPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":")
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// An executable of this package, built into the same products directory as the test bundle
    /// that `anchor` belongs to; nil when it has not been built.
    public static func product(_ name: String, besideBundleOf anchor: AnyClass) -> URL? {
        var directory = Bundle(for: anchor).bundleURL
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        let url = directory.appendingPathComponent(name)
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// `mpirun` flags that work as root in a container: no core binding (OpenBLAS threads need
    /// the cores), no cross-memory-attach, more ranks than cores allowed.
    public static func mpirunFlags(ranks: Int) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
         "--mca", "btl_vader_single_copy_mechanism", "none", "-np", "\(ranks)"]
    }

    /// The package root, found from this source file's path.
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
