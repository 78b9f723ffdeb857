@testable import Distill
import XCTest

/// The command line as ranks compare it: subcommand, flags by name, numbers by exact value.
final class CommandLineAgreementTests: XCTestCase {
    private func names(_ arguments: [String]) -> [String] {
        CommandLineAgreement.items(arguments, defaultCommand: "run").map(\.name)
    }

    func testSubcommandAndFlagsInNameOrder() {
        XCTAssertEqual(names(["distill-student", "--teacher", "t.safetensors", "--run-teacher", "--alpha=0.5"]),
                       ["the command distill-student", "--alpha 0.5", "--run-teacher", "--teacher t.safetensors"])
        XCTAssertEqual(names(["--plain", "--threads", "2", "--seed", "7"]), ["the command run", "--seed 7"])
    }

    func testNumbersCompareByValue() {
        XCTAssertEqual(names(["--learning-rate", "1e-3"]), names(["--learning-rate", "0.001"]))
        XCTAssertNotEqual(names(["--learning-rate", "0.0010000001"]), names(["--learning-rate", "0.001"]))
        XCTAssertEqual(names(["--seed", "007"]), names(["--seed", "7"]))
        XCTAssertNotEqual(names(["--seed", "18446744073709551615"]), names(["--seed", "18446744073709551614"]))
        XCTAssertEqual(CommandLineAgreement.canonical("0x10"), "0x10")   // not a decimal number: compared as text
    }

    func testRepeatedFlagsAndPositionalArgumentsCount() {
        XCTAssertEqual(names(["train-teacher", "--train-limit", "300", "--train-limit", "301"]),
                       ["the command train-teacher", "--train-limit 300 301"])
        XCTAssertEqual(names(["sweep", "extra"]), ["the command sweep", "the arguments extra"])
        XCTAssertEqual(names(["--collective-timeout=-1"]), ["the command run", "--collective-timeout -1"])
    }
}
