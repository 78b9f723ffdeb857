// collective-check: asserts the collectives across the processes of one job.
//
//     mpirun -np 2 collective-check --expect-size 2 [--fail-on-rank R]
//
// Every rank runs every check; after each one the ranks sum their failure flags, and
// rank 0 prints `PASS <check>` or `FAIL <check>`, then `N passed, M failed`. Any failure
// ends the whole job through `Communicator.abort` (MPI_Abort), so no rank can hang or
// exit 0. A world smaller than `--expect-size` fails at once: a run that accidentally
// starts one process must not pass vacuously. `--fail-on-rank R` makes rank R abort
// while the others wait in a barrier, to show that a failing rank ends the job.
// Started without mpirun it uses `SingleProcess` (a job of one). `--thread-ranks N` instead checks
// that ranks as threads of one process end it when one fails or never arrives (ThreadRanksProbe.swift).

import Collective
import Foundation

if CommandLine.arguments.dropFirst().first == "--thread-ranks" { threadRanksProbe(Array(CommandLine.arguments.dropFirst())) }

let mpi: MPICommunicator? = Launch.isParallelLaunch() ? MPICommunicator() : nil
let communicator: Communicator = mpi ?? SingleProcess()
let rank = communicator.rank
let size = communicator.size

// MARK: - Options

let usage = "usage: collective-check --expect-size N [--fail-on-rank R]"
var expectedSize: Int?
var failOnRank: Int?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--expect-size":
        guard let value = arguments.popFirst().flatMap(Int.init), value >= 1 else {
            communicator.abort(message: "--expect-size needs a positive integer\n\(usage)")
        }
        expectedSize = value
    case "--fail-on-rank":
        guard let value = arguments.popFirst().flatMap(Int.init), (0..<size).contains(value) else {
            communicator.abort(message: "--fail-on-rank needs a rank in 0..<\(size)\n\(usage)")
        }
        failOnRank = value
    case "-h", "--help":
        if communicator.isRoot { print(usage) }
        mpi?.finalize()
        exit(0)
    default:
        communicator.abort(message: "unknown argument '\(argument)'\n\(usage)")
    }
}
guard let expectedSize else {
    communicator.abort(message: "--expect-size is required, so that a run with too few ranks cannot pass\n\(usage)")
}
guard size >= expectedSize else {
    communicator.abort(message: "the job has \(size) rank(s) but --expect-size \(expectedSize) needs at least \(expectedSize): start it with mpirun -np \(expectedSize)")
}

// MARK: - Checks

/// One named assertion; `run` returns nil on success or what went wrong on this rank.
struct Check {
    let name: String
    let run: () -> String?
}

/// The first element of `actual` that differs from `expected(i)` (NaN never matches).
func firstMismatch<T: BinaryFloatingPoint>(_ actual: UnsafeBufferPointer<T>, expected: (Int) -> T) -> String? {
    for i in actual.indices where actual[i] != expected(i) {
        return "element \(i) is \(actual[i]), expected \(expected(i))"
    }
    return nil
}

/// "1 element", "1000 elements".
func elements(_ count: Int) -> String { count == 1 ? "1 element" : "\(count) elements" }

/// 1 + 2 + ... + size: the sum when rank r contributes (r + 1) times a value.
let triangle = size * (size + 1) / 2
let large = 1 << 20 + 3  // 4 MiB of Float: past the eager limit, so the rendezvous path runs

/// Rank r contributes (r + 1) * p(i) with small integers p: the sum is exact in Float
/// whatever the reduction order.
func allreduceFloat(count: Int) -> Check {
    Check(name: "allreduceSum Float, \(elements(count))") {
        let pattern = { (i: Int) in Float(i % 251 + 1) }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in 0..<count { buffer[i] = Float(rank + 1) * pattern(i) }
        communicator.allreduceSum(buffer)
        return firstMismatch(UnsafeBufferPointer(buffer)) { Float(triangle) * pattern($0) }
    }
}

/// Values near 2^40 with a quarter: exact in Double, wrong if reduced as Float.
func allreduceDouble(count: Int) -> Check {
    Check(name: "allreduceSum Double, \(elements(count))") {
        let pattern = { (i: Int) in 0x1p40 + Double(i) + 0.25 }
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        defer { buffer.deallocate() }
        for i in 0..<count { buffer[i] = Double(rank + 1) * pattern(i) }
        communicator.allreduceSum(buffer)
        return firstMismatch(UnsafeBufferPointer(buffer)) { Double(triangle) * pattern($0) }
    }
}

/// The root holds a pattern naming it; every other rank starts from NaN.
func broadcast(root: Int, count: Int) -> Check {
    Check(name: "broadcast Float from root \(root), \(elements(count))") {
        let pattern = { (i: Int) in Float(i % 65521) + 0.5 + Float(root) }
        var values = (0..<count).map { rank == root ? pattern($0) : .nan }
        communicator.broadcast(&values, root: root)
        return values.withUnsafeBufferPointer { firstMismatch($0, expected: pattern) }
    }
}

/// Rank r sends counts[r] values naming itself; the receive buffer starts as NaN.
func allgatherv(_ description: String, counts: [Int]) -> Check {
    Check(name: "allgatherv, \(description), counts \(counts.count <= 4 ? "\(counts)" : "\(counts.prefix(4))...")") {
        let value = { (r: Int, j: Int) in Float(r) * 65536 + Float(j % 65536) }
        let send = (0..<counts[rank]).map { value(rank, $0) }
        var receive = [Float](repeating: .nan, count: counts.reduce(0, +))
        receive.withUnsafeMutableBufferPointer { receive in
            send.withUnsafeBufferPointer { communicator.allgatherv(send: $0, receive: receive, counts: counts) }
        }
        var owner: [(rank: Int, index: Int)] = []  // [sum(counts)]
        for r in 0..<size { owner += (0..<counts[r]).map { (r, $0) } }
        return receive.withUnsafeBufferPointer { firstMismatch($0) { value(owner[$0].rank, owner[$0].index) } }
    }
}

let checks: [Check] = [
    Check(name: "ranks 0..<\(size) distinct, size agrees") {
        let ranks = communicator.allgatherv([Float(rank)], counts: Array(repeating: 1, count: size))
        var sizes = [Double(size), 1]
        communicator.allreduceSum(&sizes)
        if ranks != (0..<size).map(Float.init) { return "ranks gathered as \(ranks)" }
        if sizes != [Double(size * size), Double(size)] { return "sizes summed to \(sizes[0]) over \(sizes[1]) ranks" }
        return nil
    },
    allreduceFloat(count: 0),
    allreduceFloat(count: 1),
    allreduceFloat(count: 1000),
    allreduceFloat(count: large),
    allreduceDouble(count: 1000),
    allreduceDouble(count: large),
    broadcast(root: 0, count: large),
    broadcast(root: size - 1, count: 1000),
    allgatherv("unequal, rank 1 sends 0", counts: (0..<size).map { $0 == 1 ? 0 : 3 + 5 * $0 }),
    allgatherv("large unequal, rank 0 sends 0", counts: (0..<size).map { $0 == 0 ? 0 : 262_147 * $0 + 1 }),
    Check(name: "barrier waits for the last rank") {
        // The last rank arrives 1 s late; every other rank must wait for it there. A first barrier
        // lines the ranks up, and the bar is half the delay, so a busy core's scheduling delay
        // cannot pass for an early exit.
        let late = size - 1
        if failOnRank == rank { communicator.abort(message: "injected failure (--fail-on-rank \(rank))") }
        communicator.barrier()
        let start = ContinuousClock.now
        if rank == late { Thread.sleep(forTimeInterval: 1) }
        communicator.barrier()
        let waited = ContinuousClock.now - start
        return waited < .milliseconds(500) ? "left the barrier after \(waited)" : nil
    },
]

// MARK: - Run

if communicator.isRoot {
    print("collective-check: \(size) rank(s), expected at least \(expectedSize), \(mpi == nil ? "SingleProcess" : "MPI")")
    fflush(stdout)
}
var passed = 0
var failed = 0
var failedHere = 0
for check in checks {
    let problem = check.run()
    if let problem {
        failedHere += 1
        FileHandle.standardError.write(Data("rank \(rank): \(check.name): \(problem)\n".utf8))
    }
    var failures = [problem == nil ? 0.0 : 1.0]
    communicator.allreduceSum(&failures)
    if failures[0] == 0 { passed += 1 } else { failed += 1 }
    if communicator.isRoot {
        print(failures[0] == 0 ? "PASS \(check.name)" : "FAIL \(check.name) (on \(Int(failures[0])) of \(size) ranks)")
        fflush(stdout)
    }
}
if communicator.isRoot {
    print("\(passed) passed, \(failed) failed")
    fflush(stdout)
}
if failed > 0 || failedHere > 0 {
    communicator.abort(message: "\(max(failed, failedHere)) of \(checks.count) collective checks failed")
}
mpi?.finalize()
