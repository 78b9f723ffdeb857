import ArgumentParser
import Datasets
import Distill
import Foundation
import NN

/// Which distillation settings beat training from scratch: many short student runs on cached teacher logits.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Find where distillation beats training from scratch: students over lists of alpha, temperature, epochs, seeds and train fractions, from cached teacher logits.",
        discussion: """
            For every train fraction, epoch count and seed the sweep trains one scratch twin (the plain \
            classifier path) and one distilled student per alpha x temperature, all from the same initial \
            weights, training subset and batch order, so each distilled run is compared with its twin seed by seed. \
            Settings are chosen on a validation split held out of the training set (class-balanced, fixed); the \
            best setting of each train fraction is then confirmed on --confirm-seeds and the test set.
            Under mpirun the ranks train whole runs, each run on one thread unless --threads says otherwise (so use as \
            many ranks as cores), and \
            rank 0 writes OUTPUT/sweep.csv (a row per run, appended as runs end), OUTPUT/sweep.md (tables of \
            mean, standard deviation, paired difference and paired t) and OUTPUT/heatmap-*.png (gnuplot). \
            Stopped (Ctrl-C, SIGTERM, SIGUSR1) or killed, the same command continues where it was: runs \
            already in sweep.csv are not trained again.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var teacher: TeacherOptions

    @Option(help: "Architecture preset whose student is trained (keras or hidden).")
    var preset: Architecture = .keras

    @Option(help: ArgumentHelp("The student's architecture as a Keras Sequential JSON file. Default: the preset's student.",
                               valueName: "file.json"))
    var studentModel: String?

    @Option(name: .customLong("alpha"), help: ArgumentHelp("Weights of the student loss to try, comma-separated, each in [0, 1].", valueName: "list"))
    var alphas = "0.1,0.5,0.9"

    @Option(name: .customLong("temperature"), help: ArgumentHelp("Softmax temperatures to try, comma-separated, each in (0, \(Int(SettingRanges.temperatureLimit))].", valueName: "list"))
    var temperatures = "2,5,10"

    @Option(name: .customLong("student-epochs"), help: ArgumentHelp("Epoch counts to try, comma-separated.", valueName: "list"))
    var epochs = "3"

    @Option(help: ArgumentHelp("Seeds of the search (initial weights, subset, batch order), comma-separated.", valueName: "list"))
    var seeds = "1,2,3,4,5"

    @Option(name: .customLong("train-fraction"),
            help: ArgumentHelp("Fractions of the training pool to train on, comma-separated, each in (0, 1]: a seeded, class-balanced "
                               + "subset per seed (the teacher's logits are the whole set's, picked by original id).", valueName: "list"))
    var fractions = "1"

    @Option(help: ArgumentHelp("Fresh seeds on which the best setting of each train fraction is confirmed on the test set; "
                               + "none of --seeds. 'none' skips the confirmation.", valueName: "list"))
    var confirmSeeds = "101,102,103,104,105"

    @Option(help: "Fraction of the training set held out (class-balanced, the same every sweep) to choose settings on, in (0, 0.5].", transform: decimal)
    var validationFraction = 0.1

    @Option(help: "Global batch size of every run.")
    var batchSize = 32

    @Option(help: "Adam learning rate of every run, in (0, 10].", transform: decimal)
    var learningRate: Float = 0.001

    @Option(help: "Directory for sweep.csv, sweep.md and the heatmaps (created if missing).")
    var output = "sweep"

    var grid: SweepGrid {
        get throws {
            // Each value's range is checked as for a single run's flag, with the same message.
            let alphaList: [Float] = try parseList(alphas, flag: "--alpha", expected: "a number in [0, 1]", { DecimalNumber.parse($0) })
            let temperatureList: [Float] = try parseList(temperatures, flag: "--temperature",
                                                         expected: "a number in (0, \(Int(SettingRanges.temperatureLimit))]", { DecimalNumber.parse($0) })
            for alpha in alphaList { try SettingRanges.alpha(alpha) }
            for temperature in temperatureList { try SettingRanges.temperature(temperature) }
            return SweepGrid(alphas: alphaList, temperatures: temperatureList,
                      epochs: try parseList(epochs, flag: "--student-epochs", expected: "a whole number of epochs in 1...100000", Int.init,
                                            check: { (1...100_000).contains($0) }),
                      seeds: try parseList(seeds, flag: "--seeds", expected: "an unsigned integer", UInt64.init),
                      trainFractions: try parseList(fractions, flag: "--train-fraction", expected: "a number in (0, 1]", { DecimalNumber.parse($0) },
                                                    check: { $0 > 0 && $0 <= 1 }))
        }
    }

    var confirmation: [UInt64] {
        get throws {
            confirmSeeds == "none" ? [] : try parseList(confirmSeeds, flag: "--confirm-seeds", expected: "an unsigned integer", UInt64.init)
        }
    }

    func validate() throws {
        do {
            let grid = try grid
            guard grid.searchRunCount <= 1_000_000 else {
                throw ValidationError("the lists make \(Int(grid.searchRunCount)) runs (train fractions x epochs x seeds x "
                    + "(1 + alphas x temperatures)); at most 1000000")
            }
            if let shared = try confirmation.first(where: grid.seeds.contains) {
                throw ValidationError("--confirm-seeds must be fresh seeds, but \(shared) is also in --seeds")
            }
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
        if runtime.metricsDir != nil {
            throw ValidationError("--metrics-dir does not apply to sweep: every run's figures go to <output>/sweep.csv")
        }
        guard validationFraction > 0, validationFraction <= 0.5 else {
            throw ValidationError("--validation-fraction must be in (0, 0.5], got \(validationFraction)")
        }
        do {
            try SettingRanges.batchSize(batchSize)
            try SettingRanges.learningRate(learningRate)
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let session = Session.start(runtime)
        session.run {
            let grid = try grid
            var settings = RecipeSettings()
            settings.use(preset)
            if let studentModel { settings.studentModel = try ModelDescription(contentsOfFile: studentModel) }
            (settings.batchSize, settings.learningRate) = (batchSize, learningRate)
            let csvPath = (output as NSString).appendingPathComponent("sweep.csv")
            if session.isRoot {
                do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                    throw CommandError("--output \(output): cannot create the directory (\(error.localizedDescription))")
                }
                try checkWritable(csvPath, isRoot: true)
            }
            let sweepSettings = "student model \(settings.studentModel.name) #\(String(settings.studentModel.contentHash, radix: 16)), "
                + "batch \(batchSize), learning rate \(learningRate), validation fraction \(validationFraction)"
            // The lists are not part of the sweep's identity (a later run may extend them), but the ranks must share them.
            let lists = "alpha \(grid.alphas), temperature \(grid.temperatures), epochs \(grid.epochs), seeds \(grid.seeds), "
                + "train fractions \(grid.trainFractions), confirm seeds \(try confirmation)"
            let loaded = try teacher.load(data: data, settings: settings, session: session,
                                          agreeing: [("the sweep settings (\(sweepSettings))", settingsHash(sweepSettings)),
                                                     ("the sweep's lists (\(lists))", settingsHash(lists))])
            let (train, test) = (loaded.train, loaded.test)
            guard let logits = loaded.logits else { throw CommandError("no teacher logits: give --teacher or --teacher-logits") }
            var teacherLine = loaded.summary
            if let model = loaded.model {
                let accuracy = try Evaluation.run(model, on: test, batchSize: 500, communicator: session.communicator).accuracy
                teacherLine += ", test accuracy \(percent(accuracy))"
            }
            let student = try settings.studentModel.build(gemm: session.gemm)   // checked against the data and teacher by load
            let sweepData = try SweepData(train: train, logits: logits, test: test, validationFraction: validationFraction)
            var job = SweepJob(grid: grid, confirmSeeds: try confirmation, trainer: SweepTrainer(data: sweepData, settings: settings, gemm: session.gemm),
                               communicator: session.communicator, csvPath: csvPath,
                               fingerprint: SweepJob.fingerprint(settings: sweepSettings, logits: logits, train: train, test: test))
            job.log = session.log
            job.stopRequested = { session.stop.isRequested }
            session.log("teacher: \(teacherLine)")
            session.log("student \(settings.studentModel.name) (\(student.parameterCount) parameters); training pool \(sweepData.pool.count), "
                + "validation \(sweepData.validation.count) (held out), test \(test.count) samples")

            // A student run's products are too small to split: each run gets one thread (the logit pass above had them all).
            if runtime.threads == nil, session.threads != 1 {
                session.gemm.setThreads(1)
                session.log("runs on 1 thread per rank (--threads to change): use as many ranks as cores")
            }
            var warned = false
            job.progress = { name, total, done, cost in
                let progress = SweepProgress(stage: name, total: total, done: done, pendingCost: cost, log: session.log)
                return { records in
                    progress.finished(records)
                    warned = warned || warnOfLongRuns(records, session: session)
                }
            }
            let started = Date()
            let result = try job.run()
            let (search, confirmed) = (result.search, result.confirmed)
            if result.outside > 0 {
                session.log("\(result.outside) run\(result.outside == 1 ? "" : "s") of \(csvPath) lie outside these lists: kept there, left out of this report")
            }
            for group in confirmed.groups {
                for (alpha, temperature, comparison) in group.settings {
                    session.log("confirmed on the test set: train fraction \(group.trainFraction), \(group.epochs) epochs, alpha \(alpha), "
                        + "T \(temperature): distilled \(percent(comparison.distilled.mean)), scratch \(percent(comparison.scratch.mean)), "
                        + "difference \(SweepMarkdown.signed(comparison.difference.mean)) points, t \(SweepMarkdown.t(comparison)) "
                        + "over \(comparison.seeds) seeds")
                }
            }
            let threads = runtime.threads ?? 1
            let trainedRuns = result.trained
            session.log("\(trainedRuns) run\(trainedRuns == 1 ? "" : "s") trained in \(fixed(Date().timeIntervalSince(started), 1)) s "
                + "on \(session.communicator.size) rank\(session.communicator.size == 1 ? "" : "s") x \(threads) thread\(threads == 1 ? "" : "s")")
            guard session.isRoot else { return }
            let context = ["Teacher: \(teacherLine).",
                           "Student: \(settings.studentModel.name), \(student.parameterCount) parameters; batch \(batchSize), "
                               + "learning rate \(learningRate), Adam.",
                           "Data: \(data.source); training pool \(sweepData.pool.count) samples, validation \(sweepData.validation.count) "
                               + "(held out of the training set, class-balanced), test \(test.count)."]
            try writeReport(search: search, confirmed: confirmed, confirmSkipped: try confirmation.isEmpty, grid: grid, context: context,
                            session: session)
            session.log("wrote \(csvPath)")
        }
    }

    /// Rank 0: OUTPUT/sweep.md and a heatmap per train fraction and epoch count (a missing gnuplot only loses the images).
    private func writeReport(search: SweepSummary, confirmed: SweepSummary, confirmSkipped: Bool, grid: SweepGrid, context: [String],
                             session: Session) throws {
        var images: [String: String] = [:]
        for group in search.groups {
            let name = "heatmap-f\(group.trainFraction)-e\(group.epochs).png"
            do {
                try drawHeatmap(group, grid: grid, to: (output as NSString).appendingPathComponent(name))
                images["\(group.trainFraction) \(group.epochs)"] = name
                session.log("wrote \((output as NSString).appendingPathComponent(name))")
            } catch {
                session.log("warning: no heatmap \(name): \(error)")
            }
        }
        let markdown = SweepMarkdown.render(search: search, confirm: confirmed, context: context, confirmSkipped: confirmSkipped) {
            images["\($0) \($1)"]
        }
        let report = (output as NSString).appendingPathComponent("sweep.md")
        do { try markdown.write(toFile: report, atomically: true, encoding: .utf8) } catch {
            throw CommandError("\(report): cannot write it (\(error.localizedDescription))")
        }
        session.log("wrote \(report)")
    }

    /// Warns (once: true when it did) that a rank waits at each round's gather for the round's slowest
    /// run, and that wait counts against the watchdog.
    private func warnOfLongRuns(_ records: [SweepRecord], session: Session) -> Bool {
        let timeout = runtime.collectiveTimeout
        guard session.communicator.size > 1, timeout > 0, let longest = records.map(\.outcome.seconds).max(), longest > timeout / 2 else {
            return false
        }
        session.log("warning: a run took \(fixed(longest, 0)) s; a rank waits for the round's slowest run at its gather, and a wait "
            + "over --collective-timeout \(fixed(timeout, 0)) s ends the job: raise it above the longest run")
        return true
    }
}
