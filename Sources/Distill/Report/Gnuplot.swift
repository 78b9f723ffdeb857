import Foundation

/// Why a figure was not drawn, in one line (no gnuplot, gnuplot's own error, nothing to draw).
public struct PlotError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs gnuplot (Debian's gnuplot-nox, found on PATH) on `script`, written to a temporary file
/// (not a pipe: a gnuplot that exits early would end this process with SIGPIPE).
/// Throws the reason gnuplot gave (its last line on standard error) or that it is missing.
func runGnuplot(_ script: String) throws {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":")
    guard let gnuplot = path.map({ "\($0)/gnuplot" }).first(where: FileManager.default.isExecutableFile) else {
        throw PlotError("gnuplot is not installed (apt-get install gnuplot-nox)")
    }
    let scriptFile = (NSTemporaryDirectory() as NSString).appendingPathComponent("distill-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).gp")
    defer { try? FileManager.default.removeItem(atPath: scriptFile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: gnuplot)
    process.arguments = [scriptFile]
    let errors = Pipe()
    process.standardError = errors
    do {
        try (script + "\n").write(toFile: scriptFile, atomically: true, encoding: .utf8)
        try process.run()
    } catch {
        throw PlotError("gnuplot could not run: \(error.localizedDescription)")
    }
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PlotError("gnuplot failed: \(message.split(separator: "\n").last ?? "exit \(process.terminationStatus)")")
    }
}
