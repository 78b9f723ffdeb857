import Datasets
import NN

/// Checks, before any training, that the models fit the data and each other: a model whose
/// input is not the data's sample shape, or a student whose classes are not the teacher's,
/// would otherwise fail (or train nonsense) deep inside the first step.
public enum ModelCompatibility {
    /// `teacher` may be nil (a command that trains only a student on labels).
    public static func check(teacher: Sequential?, student: Sequential?, data: LabeledImages) throws {
        let sampleShape = data.sampleShape, classes = data.classes
        if let teacher, let student, teacher.outputSize != student.outputSize {
            throw TrainingError("the student model '\(student.description?.name ?? "student")' has \(student.outputSize) output units, "
                + "the teacher '\(teacher.description?.name ?? "teacher")' \(teacher.outputSize); distillation needs the same classes")
        }
        for (role, model) in [("teacher", teacher), ("student", student)] {
            guard let model else { continue }
            let name = "the \(role) model '\(model.description?.name ?? role)'"
            guard model.inputShape == sampleShape else {
                throw TrainingError("\(name) takes inputs of shape \(model.inputShape), but the data's samples are \(sampleShape)")
            }
            guard model.outputShapes.last?.count == 1, model.outputSize == classes else {
                throw TrainingError("\(name) has \(model.outputShapes.last ?? []) outputs, but the data's labels are 0...\(classes - 1) "
                    + "(\(classes) classes); a classifier needs one output unit per class")
            }
        }
    }

    /// A model to evaluate on `data`: its input is the data's sample shape and it has an output
    /// for every label the data holds.
    public static func checkEvaluable(_ model: Sequential, on data: LabeledImages, source: String) throws {
        guard model.inputShape == data.sampleShape else {
            throw TrainingError("\(source): the model takes inputs of shape \(model.inputShape), but the data's samples are \(data.sampleShape)")
        }
        guard model.outputShapes.last?.count == 1, model.outputSize >= data.classes else {
            throw TrainingError("\(source): the model has \(model.outputShapes.last ?? []) outputs, but the data's labels go up to \(data.classes - 1)")
        }
    }
}
