import ArgumentParser
import Distill
import Foundation
import NN   // ModelDescription: --student-model is read here

/// Which distillation settings beat training from scratch: many short student runs on cached teacher logits.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Find where distillation beats training from scratch: students over lists of losses, alpha, temperature, epochs, seeds and train fractions, from cached teacher logits.",
        discussion: """
            For every train fraction, epoch count and seed the sweep trains one scratch twin (the plain \
            classifier path) and, per --loss, one distilled student per alpha x temperature (kd) or one (a loss \
            with its own parameters, such as dkd or dist), all from the same initial weights, training subset and \
            batch order, so each distilled run is compared with its twin seed by seed. \
            Settings are chosen on a validation split held out of the training set (class-balanced, fixed); the \
            best setting of each train fraction and loss is then confirmed on --confirm-seeds and the test set, \
            and with several losses the report ranks them, paired against scratch and against kd. Every run also \
            records its top-1 agreement with the teacher and its expected calibration error (15 bins) on the same \
            evaluation set (agreement on the test set needs a teacher model, not --teacher-logits).
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

    @Option(help: ArgumentHelp("The student's architecture as a Keras model JSON file (Sequential or functional). Default: the preset's student.",
                               valueName: "file.json"))
    var studentModel: String?

    @Option(name: .customLong("alpha"), help: ArgumentHelp("Weights of the student loss to try with kd (and its variants), comma-separated, each in [0, 1].",
                                                           valueName: "list"))
    var alphas = "0.1,0.5,0.9"

    @Option(name: .customLong("temperature"), help: ArgumentHelp("Softmax temperatures to try with kd (and its variants), comma-separated, each in (0, \(Int(SettingRanges.temperatureLimit))].",
                                                                  valueName: "list"))
    var temperatures = "2,5,10"

    @Option(name: .customLong("student-epochs"), help: ArgumentHelp("Epoch counts to try, comma-separated.", valueName: "list"))
    var epochs = "3"

    @Option(help: ArgumentHelp("Seeds of the search (initial weights, subset, batch order), comma-separated.", valueName: "list"))
    var seeds = "1,2,3,4,5"

    @Option(name: .customLong("train-fraction"),
            help: ArgumentHelp("Fractions of the training pool to train on, comma-separated, each in (0, 1]: a seeded, class-balanced "
                               + "subset per seed (the teacher's logits are the whole set's, picked by original id).", valueName: "list"))
    var fractions = "1"

    @Option(help: ArgumentHelp("Fresh seeds on which the best setting of each train fraction and loss is confirmed on the test set; "
                               + "none of --seeds. 'none' skips the confirmation.", valueName: "list"))
    var confirmSeeds = "101,102,103,104,105"

    @Option(help: "Fraction of the training set held out (class-balanced, the same every sweep) to choose settings on, in (0, 0.5].", transform: decimal)
    var validationFraction = 0.1

    @Option(help: "Global batch size of every run.")
    var batchSize = 32

    @OptionGroup(title: "Optimizer of every run")
    var optimizing: OptimizerOptions

    @Option(name: .customLong("loss"), help: ArgumentHelp("Distillation losses to try, comma-separated, each as a single run's --loss takes it "
                                                        + "(kd,kd:standardize,dkd,dist:beta=1). " + lossHelp.abstract, valueName: "list"))
    var losses = LossRegistry.defaultName

    @Option(help: ArgumentHelp("Data-side augmentation of every run's training images, as run's --augment (e.g. pad-crop=2:flip). The "
                               + "teacher's logits of each epoch's views are computed once per seed and train fraction (needs one --teacher "
                               + "FILE) and kept in OUTPUT/views, shared by that seed's runs of every loss, alpha and T; the scratch twins "
                               + "see the same views. Default: none.", valueName: "part[:part...]"))
    var augment = "none"

    @Option(help: ArgumentHelp(augmentSeedHelp + " In a sweep at train fraction 1, every run then shares one set of tables.", valueName: "N"))
    var augmentSeed: UInt64?

    @Option(help: "Directory for sweep.csv, sweep.md and the heatmaps (created if missing).")
    var output = "sweep"

    var grid: SweepGrid {
        get throws {
            try SweepGrid(parsingAlphas: alphas, temperatures: temperatures, epochs: epochs, seeds: seeds, trainFractions: fractions, losses: losses)
        }
    }

    var confirmation: [UInt64] {
        get throws { confirmSeeds == "none" ? [] : try SweepGrid.seeds(confirmSeeds, flag: "--confirm-seeds") }
    }

    func validate() throws {
        do {
            let grid = try grid
            guard grid.searchRunCount <= 1_000_000 else {
                throw ValidationError("the lists make \(Int(grid.searchRunCount)) runs (train fractions x epochs x seeds x "
                    + "(1 + alphas x temperatures per kd loss + 1 per other loss)); at most 1000000")
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
            _ = try AugmentSpecification.resolve(augment)
        } catch let error as TrainingError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        Session.run(runtime) { session in
            let (settings, csvPath) = (try settings, try csvPath(isRoot: session.isRoot))
            let (grid, confirmSeeds) = (try grid, try confirmation)
            var setup = try SweepSetup(grid: grid, confirmSeeds: confirmSeeds, settings: settings, validationFraction: validationFraction,
                                       csvPath: csvPath, teacher: try teacherSource(grid), data: data.source, context: session.context,
                                       viewDirectory: (output as NSString).appendingPathComponent("views"))
            session.log("teacher: \(setup.teacherLine)")
            session.log("student \(settings.studentModel.name) (\(setup.studentParameters) parameters); training pool \(setup.data.pool.count), "
                + "validation \(setup.data.validation.count) (held out), test \(setup.data.test.count) samples")
            // A student run's products are too small to split: each run gets one thread (the logit pass above had them all).
            if runtime.threads == nil, session.threads != 1 {
                session.gemm.setThreads(1)
                session.log("runs on 1 thread per rank (--threads to change): use as many ranks as cores")
            }
            setup.job.progress = progress(session)
            let started = Date()
            let result = try setup.job.run()
            logOutcome(result, csvPath: csvPath, seconds: Date().timeIntervalSince(started), session: session)
            guard session.isRoot else { return }
            try writeSweepReport(search: result.search, confirmed: result.confirmed, confirmSkipped: confirmSeeds.isEmpty, grid: grid,
                                 context: setup.reportContext(dataSource: data.source.description), to: output, log: session.log)
            session.log("wrote \(csvPath)")
        }
    }

    /// The teacher; several are combined once for every run, so a mean of probabilities needs one temperature over every loss.
    private func teacherSource(_ grid: SweepGrid) throws -> TeacherSource {
        var temperatures: Set<Float> = []
        for loss in grid.losses {
            for temperature in try LossRegistry.usesMix(loss) ? grid.temperatures : [grid.temperatures[0]] {
                _ = try teacher.source(loss: loss, temperature: temperature)   // refuses a z-scoring loss with a mean of probabilities
                temperatures.insert(try LossRegistry.softening(loss, temperature: temperature).temperature)
            }
        }
        if teacher.members.count > 1, teacher.ensemble == .probabilities, temperatures.count > 1 {
            throw CommandError("--ensemble probabilities: the teachers' probabilities are averaged once, at one temperature, but the "
                + "losses and --temperature soften at \(temperatures.sorted().map { "\($0)" }.joined(separator: ", ")); "
                + "give one temperature, or use --ensemble logits")
        }
        return try teacher.source(loss: grid.losses[0], temperature: grid.temperatures[0])
    }

    /// The student model, batch size and learning rate of every run.
    var settings: RecipeSettings {
        get throws {
            var settings = RecipeSettings()
            settings.use(preset)
            if let studentModel { settings.studentModel = try ModelDescription(contentsOfFile: studentModel) }
            let rule = try optimizing.rule
            (settings.batchSize, settings.learningRate, settings.optimizer, settings.schedule) = (batchSize, rule.learningRate, rule.optimizer, rule.schedule)
            settings.augment = try AugmentSpecification.resolve(augment)
            settings.augmentSeed = augmentSeed
            return settings   // each distilled run sets its own loss (--loss is a list)
        }
    }

    /// OUTPUT/sweep.csv; rank 0 creates OUTPUT and checks the file can be written.
    private func csvPath(isRoot: Bool) throws -> String {
        let csvPath = (output as NSString).appendingPathComponent("sweep.csv")
        guard isRoot else { return csvPath }
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
            throw CommandError("--output \(output): cannot create the directory (\(error.localizedDescription))")
        }
        try checkWritable(csvPath, isRoot: true)
        return csvPath
    }

    /// Each stage's progress lines, and the warning (once) about runs longer than half the collective timeout.
    private func progress(_ session: Session) -> (String, Int, Int, Double) -> ([SweepRecord]) -> Void {
        var warned = false
        return { name, total, done, cost in
            let progress = SweepProgress(stage: name, total: total, done: done, pendingCost: cost, log: session.log)
            return { records in
                progress.finished(records)
                warned = warned || warnOfLongRuns(records, session: session)
            }
        }
    }

    /// The confirmed settings' figures and what this invocation trained.
    private func logOutcome(_ result: SweepJob.Result, csvPath: String, seconds: Double, session: Session) {
        if result.outside > 0 {
            session.log("\(result.outside) run\(result.outside == 1 ? "" : "s") of \(csvPath) lie outside these lists: kept there, left out of this report")
        }
        for group in result.confirmed.groups {
            for row in group.settings {
                let comparison = row.comparison
                session.log("confirmed on the test set: train fraction \(group.trainFraction), \(group.epochs) epochs, \(row.method): "
                    + "distilled \(percent(comparison.distilled.mean)), scratch \(percent(comparison.scratch.mean)), "
                    + "difference \(SweepMarkdown.signed(comparison.difference.mean)) points, t \(SweepMarkdown.t(comparison)) "
                    + "over \(comparison.seeds) seeds")
            }
        }
        let (threads, ranks) = (runtime.threads ?? 1, session.communicator.size)
        session.log("\(result.trained) run\(result.trained == 1 ? "" : "s") trained in \(fixed(seconds, 1)) s "
            + "on \(ranks) rank\(ranks == 1 ? "" : "s") x \(threads) thread\(threads == 1 ? "" : "s")")
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
