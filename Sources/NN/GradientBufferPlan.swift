/// Which buffer holds each layer output's gradient in the backward pass. Walking the layers backward,
/// the gradient of layer s's output is first written by the last layer that reads s and is last read
/// by s itself, so it is live from step `lastReader(s)` down to step s. Gradients whose live ranges do
/// not meet share a buffer: a chain needs two, a graph a few more, and the backward pass keeps writing
/// into buffers it has just read (in cache) instead of one cold buffer per layer.
struct GradientBufferPlan: Equatable {
    /// Per layer, the index of its output gradient's buffer; nil for the last layer (its gradient is the caller's).
    let buffers: [Int?]
    /// Per buffer, the largest per-sample size (values) of the gradients it holds.
    let sizes: [Int]

    /// `inputs`: per layer, the layers it reads (-1 the model's input), each earlier; every layer but the
    /// last is read by a later one (LayerGraph checks it). `sizes`: per layer, its output's values per sample.
    /// `readBelow`: gradients last read at a lower step than their own layer's, layer -> that step (a fused
    /// activation's output gradient, which its BatchNormalization reads: it must not share a buffer with the
    /// normalisation's input gradient).
    init(inputs: [[Int]], sizes layerSizes: [Int], readBelow: [Int: Int] = [:]) {
        let count = inputs.count
        var lastReader = [Int](repeating: -1, count: count)
        for (reader, sources) in inputs.enumerated() {
            for source in sources where source >= 0 { lastReader[source] = max(lastReader[source], reader) }
        }
        // In order of first write (the highest last reader first), each gradient takes a free buffer
        // (its last holder was read at a step before this one's first write) that is large enough,
        // else the largest free one, grown, else a new one.
        let order = (0..<max(count - 1, 0)).sorted { (lastReader[$0], $0) > (lastReader[$1], $1) }
        var buffers = [Int?](repeating: nil, count: count)
        var sizes: [Int] = [], freedAt: [Int] = []   // per buffer: the step its current gradient is last read
        for layer in order {
            let start = lastReader[layer]
            precondition(start > layer, "layer \(layer)'s output is read by no later layer")
            let free = sizes.indices.filter { freedAt[$0] > start }
            let fits = free.filter { sizes[$0] >= layerSizes[layer] }
            let chosen = fits.min { sizes[$0] < sizes[$1] } ?? free.max { sizes[$0] < sizes[$1] }
            let lastRead = readBelow[layer] ?? layer
            if let chosen {
                sizes[chosen] = max(sizes[chosen], layerSizes[layer])
                freedAt[chosen] = lastRead
                buffers[layer] = chosen
            } else {
                buffers[layer] = sizes.count
                sizes.append(layerSizes[layer])
                freedAt.append(lastRead)
            }
        }
        (self.buffers, self.sizes) = (buffers, sizes)
    }
}
