/// A phase of a job: the model it trains, from which seeds, for how many epochs, under which names.
/// Every phase name a file, a table or a progress line shows comes from here.
public enum Phase: String, CaseIterable, Sendable {
    case teacher = "teacher"
    case distilledStudent = "student-distilled"
    case scratchStudent = "student-scratch"
    /// The sweep's twin of a distilled student: its seeds, trained on the labels alone.
    case scratchTwin = "student-scratch-twin"

    /// The stem of its files: `state-<stem>-*.safetensors`, `<stem>.safetensors`, `<stem>.csv`.
    public var fileStem: String { rawValue }

    /// Its name in progress lines, tables and messages.
    public var title: String {
        switch self {
        case .teacher: return "teacher"
        case .distilledStudent: return "student (distilled)"
        case .scratchStudent: return "student (scratch)"
        case .scratchTwin: return "student (scratch twin)"
        }
    }

    public var role: ModelRole { self == .teacher ? .teacher : .student }

    /// The seed purposes of its initial weights and of its batch order (a twin shares the distilled student's).
    var seeds: (weights: RecipeSettings.Purpose, shuffle: RecipeSettings.Purpose) {
        switch self {
        case .teacher: return (.teacherWeights, .teacherShuffle)
        case .distilledStudent, .scratchTwin: return (.studentWeights, .studentShuffle)
        case .scratchStudent: return (.scratchWeights, .scratchShuffle)
        }
    }

    /// Its epochs under `settings`.
    public func epochs(_ settings: RecipeSettings) -> Int { self == .teacher ? settings.teacherEpochs : settings.studentEpochs }

    /// The phases of the whole recipe (`run`), in order.
    public static let recipe: [Phase] = [.teacher, .distilledStudent, .scratchStudent]
}
