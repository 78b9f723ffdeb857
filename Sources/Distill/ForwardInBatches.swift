import Datasets
import NN

/// Runs `model` forward over the samples `range` of `data`, `batchSize` at a time, and hands each
/// batch to `body` with its logits `[count, classes]`, labels `[count]` and offset within `range`.
/// `view`, when given, changes each gathered batch `[count, H, W, C]` of the samples `ids` first (an augmented view).
func forwardInBatches(
    _ model: Sequential, data: LabeledImages, range: Range<Int>, batchSize: Int,
    view: ((_ images: UnsafeMutablePointer<Float>, _ ids: ArraySlice<Int>) -> Void)? = nil,
    _ body: (_ logits: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>, _ offset: Int, _ count: Int) -> Void
) {
    let batchSize = min(batchSize, max(range.count, 1))
    model.prepare(batchSizes: [batchSize, range.count % batchSize])
    let images = FloatBuffer(count: batchSize * data.sampleSize)
    var labels = [Int32](repeating: 0, count: batchSize)
    let ids = Array(range)
    labels.withUnsafeMutableBufferPointer { labels in
        for start in stride(from: 0, to: ids.count, by: batchSize) {
            let chunk = ids[start..<min(start + batchSize, ids.count)]
            data.gather(chunk, images: images.pointer, labels: labels.baseAddress!)
            view?(images.pointer, chunk)
            let logits = model.forward(images.pointer, batch: chunk.count)
            body(logits, labels.baseAddress!, start, chunk.count)
        }
    }
}
