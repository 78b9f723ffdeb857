import Collective
import Datasets
import NN

/// A model trained on labels alone, like Keras's `model.compile(optimizer: Adam(),
/// loss: SparseCategoricalCrossentropy(from_logits: true), metrics: [accuracy]).fit(...)`:
/// the teacher, and the student trained from scratch for comparison. With MixUp (`LocalBatch.mix`) the loss is the
/// mixed labels' cross-entropy and accuracy counts the label of the larger weight.
public final class Classifier: LocalGradientStep {
    public let model: Sequential
    public let optimizer: Optimizer
    public let communicator: Communicator
    private let reducer: CommunicatorReducer
    let loss = SparseCategoricalCrossentropy()
    public let metricNames = ["loss", "accuracy"]
    private var logitGradient = FloatBuffer(count: 0)   // [maxBatch, classes]

    public init(model: Sequential, optimizer: Optimizer, communicator: Communicator) {
        self.model = model
        self.optimizer = optimizer
        self.communicator = communicator
        reducer = CommunicatorReducer(communicator)
    }

    public func prepare(batchSizes: Set<Int>) {
        model.prepare(batchSizes: batchSizes)
        if logitGradient.count < model.maxBatch * model.outputSize { logitGradient = FloatBuffer(count: model.maxBatch * model.outputSize) }
    }

    public func computeGradients(_ batch: LocalBatch, sums: UnsafeMutableBufferPointer<Double>, clock: StepClock?) {
        let classes = model.outputSize
        if logitGradient.count < model.maxBatch * classes { logitGradient = FloatBuffer(count: model.maxBatch * classes) }
        let logits = model.forward(batch.images, batch: batch.count, training: batch.trainingPass(reducer))
        timed(clock, "loss + accuracy") {
            sums[0] = loss(logits: logits, labels: batch.labels, mix: batch.mix, rows: batch.count, classes: classes,
                           gradient: logitGradient.pointer, scale: 1 / Float(batch.globalCount))
            sums[1] = Double(correctCount(logits: logits, labels: batch.labels, mix: batch.mix, rows: batch.count, classes: classes))
        }
        model.backward(batch.images, outputGradient: logitGradient.pointer, batch: batch.count)
    }
}
