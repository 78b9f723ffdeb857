import NN

/// 64 MB written before a timed pass, so that the pass meets its buffers as a training step does: evicted from the
/// caches (the step's other activations come between), but for what is written again after. The profile's cold
/// copy and oneDNN's step-like timing both use it.
struct CacheEviction {
    private let buffer = FloatBuffer(count: 16 << 20)

    /// Writes the 64 MB; `round` varies the value so that no write is skipped as a repeat.
    func evict(round: Int) { buffer.pointer.update(repeating: Float(round), count: buffer.count) }
}
