import Collective   // Launch: the job's ranks start here
import Distill
import Foundation
import NN   // GEMMBackendKind.make: the backend is made here

/// This process's place in the job: its communicator, its GEMM backend and threads, and what it may print.
/// Only rank 0 prints progress and results and writes files.
struct Session {
    let communicator: Communicator
    let gemm: GEMMBackend
    let threads: Int
    let plain: Bool
    let metricsDirectory: String?
    /// Set once SIGTERM or SIGINT arrives; training stops at the next step boundary.
    let stop: StopRequest

    /// Runs `body` as this process's part of the job: its MPI rank when launched by mpirun (unless
    /// `--single-process`), a lone process otherwise, or with `--ranks N` each of N ranks that are threads of
    /// this process, at once. Backend threads = cores / ranks on this node unless `--threads` says otherwise.
    /// Every rank must have the same command line and choose the same backend (checked). A failure ends the
    /// job with one line; a stop on request exits with `StopRequest.exitCode` once every rank has saved.
    static func run(_ options: RuntimeOptions, announce: Bool = true, resumeHint: String? = nil, _ body: (Session) throws -> Void) {
        let timeout = options.collectiveTimeout > 0 ? options.collectiveTimeout : nil
        let status: Int32
        if options.ranks > 1 {
            if let problem = Launch.threadRanksProblem(options.ranks) { fail(problem) }
            let stop = StopRequest()
            status = ThreadGroup.run(size: options.ranks, collectiveTimeout: timeout) { rank in
                Session(joining: rank, options, stop: stop, announce: announce).run(resumeHint: resumeHint, body)
            }.max() ?? 0
        } else {
            let communicator: Communicator
            do {
                communicator = try Launch.communicator(singleProcess: options.singleProcess, collectiveTimeout: timeout,
                                                       agreeing: CommandLineAgreement.items(Array(CommandLine.arguments.dropFirst()),
                                                                                            defaultCommand: Run.configuration.commandName ?? "run"))
            } catch {
                fail("\(error)")
            }
            status = Session(joining: communicator, options, stop: StopRequest(), announce: announce).run(resumeHint: resumeHint, body)
        }
        if status != 0 { exit(status) }
    }

    /// Ends the process before any rank exists: one line on standard error, status 1.
    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(1)
    }

    var isRoot: Bool { communicator.isRoot }

    /// What the library's jobs run with: this session's ranks, backend, log and stop request.
    var context: JobContext {
        JobContext(communicator: communicator, gemm: gemm, log: log, stopRequested: { stop.isRequested })
    }

    /// A line on standard output, from rank 0 only.
    func log(_ line: String) {
        guard isRoot else { return }
        print(line)
        fflush(stdout)
    }

    /// What a phase's model is told once trained: a line with its test figures, e.g. "teacher test accuracy 98.10%, loss 0.0612".
    /// `recipe` with its validation split held out (none at --validation-fraction 0), said in the log.
    func heldOut(_ recipe: Recipe) throws -> Recipe {
        let held = try recipe.holdingOut().recipe
        if let validation = held.validation { log("validation: \(validation.count) samples held out of \(recipe.train.count)") }
        return held
    }

    func tested(_ name: String) -> (TrainedModel) -> Void {
        { log("\(name) test accuracy \(percent($0.report.test.accuracy)), loss \(fixed($0.report.test.loss))"
                + ($0.report.epoch.map { ", weights of epoch \($0)" } ?? "")) }
    }

    /// Draws the learning curves and says where, or why not (a plot is never a failure).
    func drawLearningCurves(in directory: String) {
        do { log("learning curves: \(try Distill.drawLearningCurves(in: directory))") } catch {
            log("learning curves not drawn: \(error)")
        }
    }

    /// Progress for one training phase: a bar on a terminal, plain lines otherwise; nil off rank 0.
    /// Under mpirun always plain lines: Open MPI hands each rank a pseudo-terminal whether or not
    /// mpirun's own output is one, so a rank cannot tell, and a redrawn bar would flood a log file.
    func observer(_ phase: Phase) -> TrainingObserver? {
        guard isRoot else { return nil }
        let printer = ProgressPrinter(phase: phase.title, bar: !plain && communicator.transport != "MPI" && isatty(STDOUT_FILENO) != 0)
        guard let metricsDirectory else { return printer }
        return ObserverGroup([printer, CSVLogger(path: (metricsDirectory as NSString).appendingPathComponent(phase.fileStem + ".csv"))])
    }

    /// Runs the command's work on this rank and returns its exit status: 0, or `StopRequest.exitCode` after a
    /// stop on request (every rank stops at the same step), said with how to resume. Any error ends the whole
    /// job with one line on standard error and a non-zero exit (MPI_Abort when there are other ranks, so none
    /// is left waiting).
    func run(resumeHint: String? = nil, _ body: (Session) throws -> Void) -> Int32 {
        do {
            try body(self)
        } catch let stopped as TrainingStopped {
            log("\(stopped) (a signal arrived); "
                + (resumeHint.map { "its state is saved: run the same command with --resume to continue (\($0))" } ?? "nothing was saved"))
            communicator.finalize()
            return StopRequest.exitCode
        } catch let stopped as SweepStopped {
            log("\(stopped) (a signal arrived); every finished run is in the sweep's CSV: run the same command to continue")
            communicator.finalize()
            return StopRequest.exitCode
        } catch {
            communicator.abort(message: "\(error)")
        }
        communicator.finalize()
        return 0
    }
}

extension Session {
    /// This rank's session: its backend and threads chosen, the metrics directory made (rank 0), the layout said.
    fileprivate init(joining communicator: Communicator, _ options: RuntimeOptions, stop: StopRequest, announce: Bool) {
        let ranksHere = communicator.localSize
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = options.threads ?? max(1, cores / max(ranksHere, 1))
        let gemm: GEMMBackend
        do {
            try communicator.checkAgreement([("--gemm", Fingerprint.text(options.gemm.rawValue))])
            gemm = try options.gemm.make()
        } catch {
            communicator.abort(message: "\(error)")
        }
        // The other library gets one thread: nothing runs on it, and it must not oversubscribe the cores.
        for kind in GEMMBackendKind.allCases where kind != options.gemm { kind.setThreads(1) }
        gemm.setThreads(threads)
        if let directory = options.metricsDir, communicator.isRoot {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try checkWritable("\(directory)/\(Phase.distilledStudent.fileStem).csv", isRoot: true)
            } catch {
                communicator.abort(message: "--metrics-dir: \(error)")
            }
        }
        self.init(communicator: communicator, gemm: gemm, threads: threads, plain: options.plain,
                  metricsDirectory: options.metricsDir, stop: stop)
        if announce {
            log("layout: \(communicator.size) rank\(communicator.size == 1 ? "" : "s") (\(communicator.transport)) x \(threads) thread\(threads == 1 ? "" : "s"), "
                + "\(ranksHere) rank\(ranksHere == 1 ? "" : "s") on this \(cores)-core node; gemm \(gemm.name): \(gemm.implementation)")
        }
    }
}
