import Collective
import Distill
import XCTest

/// The whole recipe on the committed fixture (4000 training, 1000 test images), single process.
final class EndToEndTests: XCTestCase {
    func testRecipeOnTheFixtureLearns() throws {
        var settings = RecipeSettings()
        settings.teacherEpochs = 2
        settings.studentEpochs = 2
        let recipe = Recipe(settings: settings, communicator: SingleProcess(), gemm: Fixture.gemm, train: Fixture.train, test: Fixture.test)
        let teacher = try recipe.trainTeacher()
        let distilled = try recipe.distillStudent(from: recipe.teacherLogits(teacher.model))
        let scratch = try recipe.trainScratchStudent()
        // Measured with the default seed: teacher 95.6%, distilled 85.1%, scratch 86.9% (chance is 10%).
        // The floors sit a few points below, so a change in BLAS summation order cannot trip them,
        // while a broken layer, loss or optimizer (which leaves accuracy near chance or well below) does.
        XCTAssertGreaterThan(teacher.report.test.accuracy, 0.92)
        XCTAssertGreaterThan(distilled.report.test.accuracy, 0.80)
        XCTAssertGreaterThan(scratch.report.test.accuracy, 0.80)
        // Training went downhill in every phase.
        for history in [teacher.history, distilled.history, scratch.history] {
            XCTAssertLessThan(history.epochs[1][0], history.epochs[0][0], "\(history.metricNames): \(history.epochs)")
        }
        XCTAssertEqual(teacher.model.parameterCount, 1_433_610)
        XCTAssertEqual(distilled.model.parameterCount, scratch.model.parameterCount)
    }
}
