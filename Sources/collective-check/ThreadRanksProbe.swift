import Collective
import Foundation

/// `collective-check --thread-ranks N (--stuck-rank R | --fail-on-rank R) [--collective-timeout S]`: N ranks
/// as threads of this process, all but rank R at a barrier. A stuck rank R never arrives, so the others'
/// wait must end the process past S seconds with one line naming R; a failing rank R aborts while they
/// wait. Either way the process ends with status 1 and one `error:` line; returning from here is a failure.
func threadRanksProbe(_ arguments: [String]) -> Never {
    let usage = "usage: collective-check --thread-ranks N (--stuck-rank R | --fail-on-rank R) [--collective-timeout S]"
    var options: [String: Double] = [:]
    var rest = arguments[...]
    while let name = rest.popFirst() {
        guard ["--thread-ranks", "--stuck-rank", "--fail-on-rank", "--collective-timeout"].contains(name),
              let value = rest.popFirst().flatMap(Double.init) else { exitWith("unknown or incomplete argument '\(name)'\n\(usage)") }
        options[name] = value
    }
    guard let size = options["--thread-ranks"].map(Int.init), size >= 2,
          let odd = (options["--stuck-rank"] ?? options["--fail-on-rank"]).map(Int.init), (0..<size).contains(odd) else {
        exitWith("--thread-ranks needs at least 2 ranks and one odd rank among them\n\(usage)")
    }
    let failing = options["--fail-on-rank"] != nil
    _ = ThreadGroup.run(size: size, collectiveTimeout: options["--collective-timeout"]) { rank in
        if rank.rank == odd {
            if failing { rank.abort(message: "injected failure (--fail-on-rank \(odd))") }
            Thread.sleep(forTimeInterval: 3600)
        } else {
            rank.barrier()
        }
    }
    exitWith("the ranks left the barrier without rank \(odd)")
}

private func exitWith(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(2)
}
