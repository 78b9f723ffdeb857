/// The bench command's output: a Markdown table of the workloads with each one's GFLOPS as a share of
/// the same run's plain GEMM and of the machine's multiply-add peak (one thread's, times the threads
/// per rank), or one CSV line per workload.
extension Benchmarks {
    public func table(_ results: [BenchResult], ranks: Int, threads: Int, peak: MultiplyAddPeak) -> String {
        let plain = results.first { $0.workload == .gemm }
        var lines = [
            "| workload | samples/s | compute ms/step | allreduce ms/step | GFLOPS per rank | vs plain GEMM | vs FMA peak | allocations/step |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results {
            let ratio = plain.map { r.gflopsPerRank > 0 && $0.gflopsPerRank > 0 ? percent(r.gflopsPerRank / $0.gflopsPerRank) : "" } ?? ""
            let ofPeak = r.gflopsPerRank > 0 ? percent(r.gflopsPerRank / (peak.gflopsPerThread * Double(threads))) : ""
            lines.append("| \(r.workload.rawValue) | \(r.workload == .gemm ? "" : fixed(r.samplesPerSecond, 0)) | "
                + "\(fixed(r.computeMilliseconds, 2)) | \(fixed(r.allreduceMilliseconds, 3)) | "
                + "\(r.gflopsPerRank > 0 ? fixed(r.gflopsPerRank, 1) : "") | \(ratio) | \(ofPeak) | "
                + "\(r.allocations.map(\.description) ?? (r.workload == .gemm || r.workload == .logits ? "" : "n/a")) |")
        }
        lines.append("")
        lines.append("\(gemm.name) plain GEMM shape m=\(gemmShape.m) n=\(gemmShape.n) k=\(gemmShape.k) (the teacher's largest GEMM at \(localBatch) samples per rank); "
            + "\(ranks) rank(s) x \(threads) thread(s)")
        lines.append("FMA peak: \(peak.description); a rank's is \(threads) times that")
        if AllocationCounter() == nil {
            lines.append("allocations/step: n/a (run under scripts/check-allocations.sh to count them)")
        }
        if let distill = results.first(where: { $0.workload == .distill }),
           let running = results.first(where: { $0.workload == .distillRunning }) {
            lines.append("distillation with cached teacher logits: \(fixed(distill.samplesPerSecond / running.samplesPerSecond, 1))x "
                + "the throughput of running the teacher forward each step")
        }
        return lines.joined(separator: "\n")
    }

    /// workload,ranks,threads,batch,samples_per_s,compute_ms_per_step,allreduce_ms_per_step,gflops_per_rank
    public func csvLine(_ result: BenchResult, ranks: Int, threads: Int, batchSize: Int) -> String {
        [result.workload.rawValue, "\(ranks)", "\(threads)", "\(batchSize)", fixed(result.samplesPerSecond, 1), fixed(result.computeMilliseconds, 3),
         fixed(result.allreduceMilliseconds, 3), fixed(result.gflopsPerRank, 2)].joined(separator: ",")
    }
}
