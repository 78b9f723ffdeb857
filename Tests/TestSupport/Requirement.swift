import Foundation
import XCTest

/// What a test needs from the machine (mpirun, Slurm, numpy, a data package). Outside CI a missing
/// requirement skips the test, saying why; under CI (`CI=true`), where `.ci/run` installs and starts
/// everything, it fails the test with the same reason, so a missing install is never a green run.
public enum Requirement {
    public static var underCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The error to throw when `reason` keeps a test from running.
    public static func unavailable(_ reason: String) -> Error {
        underCI ? Unavailable(reason: reason) : XCTSkip(reason)
    }

    /// `mpirun` on PATH, or the error to throw.
    public static func mpirun() throws -> URL {
        guard let url = ProcessRun.findOnPath("mpirun") else { throw unavailable("mpirun is not installed") }
        return url
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "required under CI, but: \(reason)" }
    }
}
