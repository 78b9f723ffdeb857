/// One `--hint TEACHER_LAYER:STUDENT_LAYER[:WEIGHT]`: the Keras layer of the teacher whose output (after its
/// activation) the student's layer learns to give through a regressor, and the weight of that term (default 1).
public struct HintSpecification: Sendable, Equatable {
    public let teacherLayer: String
    public let studentLayer: String
    public let weight: Float

    public init(teacherLayer: String, studentLayer: String, weight: Float = 1) {
        (self.teacherLayer, self.studentLayer, self.weight) = (teacherLayer, studentLayer, weight)
    }

    /// Parses `T:S` or `T:S:W` (W a positive decimal); throws a one-line error naming the flag and the value.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> TrainingError {
            Specification.error("--hint", text, "\(why); expected TEACHER_LAYER:STUDENT_LAYER[:WEIGHT], "
                + "Keras layer names and a positive weight, e.g. block2_out:expand_relu:0.5")
        }
        guard parts.count == 2 || parts.count == 3 else { throw fail("has \(parts.count) part(s) separated by ':'") }
        guard parts.prefix(2).allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
            throw fail("a layer name is empty or holds a space")
        }
        var weight: Float = 1
        if parts.count == 3 {
            guard let value = DecimalNumber.parse(parts[2], as: Float.self), value > 0, value <= 1e6 else {
                throw fail("weight '\(Specification.shown(parts[2]))' is not a decimal in (0, 1e6]")
            }
            weight = value
        }
        self.init(teacherLayer: parts[0], studentLayer: parts[1], weight: weight)
    }

    /// As given, with the weight written out only when it is not 1 (for summaries and training states).
    public var canonical: String { "\(teacherLayer):\(studentLayer)" + (weight == 1 ? "" : ":\(Specification.format(weight))") }
}
