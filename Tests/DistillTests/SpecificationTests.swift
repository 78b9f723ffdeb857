import Distill
import NN
import XCTest

/// The specification grammar of `--loss` and `--optimizer`: valid forms, defaults, canonical text,
/// each refusal's exact line, and a seeded fuzz over the grammar's alphabet and mutations of valid text.
final class SpecificationTests: XCTestCase {
    private static let schemas = [
        SpecificationSchema("kd", help: "Hinton's distillation", [
            .init("alpha", .number(default: 0.1, range: .init(0, 1)), help: "weight of the student's own loss"),
            .init("T", .number(default: 10, range: .init(0, 1000, openLower: true)), help: "temperature"),
            .init("standardize", .toggle, help: "standardise the logits before the softmax"),
        ]),
        SpecificationSchema("dkd", help: "decoupled distillation", [
            .init("alpha", .number(default: 1, range: .init(0, 100)), help: "weight of the target-class part"),
            .init("beta", .number(default: 8, range: .init(0, 100)), help: "weight of the non-target part"),
            .init("T", .number(default: 4, range: .init(0, 1000, openLower: true)), help: "temperature"),
        ]),
        SpecificationSchema("sgd", help: "stochastic gradient descent", [
            .init("lr", .number(default: 0.01, range: .init(0, 10, openLower: true)), help: "learning rate"),
            .init("momentum", .number(default: 0, range: .init(0, 1, openUpper: true)), help: "momentum"),
            .init("nesterov", .toggle, help: "Nesterov's momentum"),
        ]),
        SpecificationSchema("ce", help: "cross-entropy alone", []),
        SpecificationSchema("multistep", help: "a rate cut at epochs", [
            .init("at", .list(range: .init(0, 1000)), help: "the epochs"),
        ]),
        SpecificationSchema("ls", help: "label smoothing", [
            .init("reduction", .choice(default: "mean", among: ["mean", "sum"]), help: "how the batch is reduced"),
            .init("epsilon", .number(default: 0.1, range: .init(0, .infinity, openUpper: true)), help: "smoothing"),
        ]),
    ]

    private func resolve(_ text: String, flag: String = "--loss") throws -> Specification.Resolved {
        try Specification.parse(text, flag: flag, schemas: Self.schemas)
    }

    private func message(_ text: String, flag: String = "--loss") -> String {
        do {
            _ = try resolve(text, flag: flag)
            return "accepted"
        } catch {
            return (error as? TrainingError)?.description ?? "not a TrainingError: \(error)"
        }
    }

    // MARK: Valid forms

    func testGrammarReadsNamesNumbersSwitchesAndNames() throws {
        let dkd = try Specification.parse("dkd:alpha=1:beta=8:T=4", flag: "--loss")
        XCTAssertEqual(dkd.name, "dkd")
        XCTAssertEqual(dkd.parameters, ["alpha": .number(1), "beta": .number(8), "T": .number(4)])
        XCTAssertEqual(try Specification.parse("kd:standardize", flag: "--loss").parameters, ["standardize": .boolean(true)])
        XCTAssertEqual(try Specification.parse("a-b_2:Key_1-x=-1.5e-3:mode=fast-2", flag: "--loss").parameters,
                       ["Key_1-x": .number(-0.0015), "mode": .name("fast-2")])
        XCTAssertEqual(try Specification.parse("kd", flag: "--loss").parameters, [:])
        // Two spellings of one specification are equal.
        XCTAssertEqual(try Specification.parse("sgd:nesterov:momentum=0.9", flag: "-o"),
                       try Specification.parse("sgd:momentum=0.90:nesterov", flag: "-o"))
        XCTAssertEqual(try Specification.parse("multistep:at=30/60/90.5", flag: "--schedule").parameters, ["at": .numbers([30, 60, 90.5])])
        XCTAssertEqual(try resolve("multistep:at=30/060").numbers("at"), [30, 60])
        XCTAssertEqual(try resolve("multistep:at=30/060").canonical, "multistep:at=30/60")
        XCTAssertEqual(try resolve("multistep:at=5").numbers("at"), [5], "one number is a list of one")
        XCTAssertEqual(try resolve("multistep").numbers("at"), [], "a list left out is empty")
        let long = "kd:" + String(repeating: "a", count: Specification.lengthLimit - 3)
        XCTAssertEqual(try Specification.parse(long, flag: "--loss").name, "kd")
    }

    func testDefaultsAreFilled() throws {
        let kd = try resolve("kd")
        XCTAssertEqual(kd.values, ["alpha": .number(0.1), "T": .number(10), "standardize": .boolean(false)])
        XCTAssertEqual(kd.number("T"), 10)
        XCTAssertFalse(kd.isOn("standardize"))
        let sgd = try resolve("sgd:nesterov:momentum=0.9", flag: "--optimizer")
        XCTAssertEqual(sgd.values, ["lr": .number(0.01), "momentum": .number(0.9), "nesterov": .boolean(true)])
        XCTAssertTrue(sgd.isOn("nesterov"))
        XCTAssertEqual(try resolve("ls").choice("reduction"), "mean")
        XCTAssertEqual(try resolve("ls:reduction=sum").choice("reduction"), "sum")
        XCTAssertEqual(try resolve("ce").values, [:])
    }

    func testCanonicalTextLeavesDefaultsOutAndSortsKeys() throws {
        let cases: [(String, String)] = [
            ("dkd:beta=8", "dkd"), ("dkd:alpha=1:beta=8:T=4", "dkd"), ("dkd:beta=8.0", "dkd"), ("dkd:beta=80e-1", "dkd"),
            ("sgd:nesterov:momentum=0.9", "sgd:momentum=0.9:nesterov"), ("sgd:momentum=0.9:nesterov", "sgd:momentum=0.9:nesterov"),
            ("kd:alpha=0.5:T=4.50", "kd:T=4.5:alpha=0.5"), ("kd:T=2e1:standardize", "kd:T=20:standardize"),
            ("sgd:lr=0.0001", "sgd:lr=0.0001"), ("sgd:lr=1e-7", "sgd:lr=1e-07"), ("sgd:momentum=-0", "sgd"), ("ls:epsilon=-0", "ls:epsilon=0"),
            ("ls:reduction=mean", "ls"), ("ls:reduction=sum:epsilon=1e20", "ls:epsilon=1e+20:reduction=sum"),
            ("kd:standardize", "kd:standardize"), ("ce", "ce"),
        ]
        for (text, canonical) in cases {
            let resolved = try resolve(text)
            XCTAssertEqual(resolved.canonical, canonical, text)
            XCTAssertEqual(try resolve(resolved.canonical), resolved, text)
        }
        XCTAssertEqual(try resolve("ls:epsilon=-0").number("epsilon").sign, .plus, "-0 is kept as the 0 its canonical text says")
    }

    // MARK: Refusals, each one line naming the flag, the item and what was expected

    func testGrammarRefusals() {
        let grammar = "is not allowed: a specification is a name then :key=value or :key parts, with no spaces or commas"
        let cases: [(String, String)] = [
            ("", "--loss '': expected a name, then :key=value or :key parameters, e.g. kd:T=4"),
            ("kd,dkd:beta=8", "--loss 'kd,dkd:beta=8': ',' \(grammar)"),
            ("kd :T=4", "--loss 'kd :T=4': ' ' \(grammar)"),
            ("kd\nT=4", "--loss 'kd\\nT=4': '\\n' \(grammar)"),
            ("kd:T=4é", "--loss 'kd:T=4\\u{00E9}': '\\u{00E9}' \(grammar)"),
            ("kd::T=4", "--loss 'kd::T=4': a part is empty (a ':' too many)"),
            ("kd:", "--loss 'kd:': a part is empty (a ':' too many)"),
            (":kd", "--loss ':kd': a part is empty (a ':' too many)"),
            ("Kd", "--loss 'Kd': the name must start with a lowercase letter and hold only lowercase letters, digits, '-' and '_', got 'Kd'"),
            ("2kd", "--loss '2kd': the name must start with a lowercase letter and hold only lowercase letters, digits, '-' and '_', got '2kd'"),
            ("kd:4=4", "--loss 'kd:4=4': a key must start with a letter and hold only letters, digits, '-' and '_', got '4'"),
            ("kd:=4", "--loss 'kd:=4': a key must start with a letter and hold only letters, digits, '-' and '_', got ''"),
            ("kd:T=4=5", "--loss 'kd:T=4=5': expected key=value or a bare key, got 'T=4=5'"),
            ("kd:T=4:T=5", "--loss 'kd:T=4:T=5': T is given twice"),
            ("kd:T=0x10", "--loss 'kd:T=0x10': T must be a decimal number or a name, got '0x10'"),
            ("kd:T=1e39", "--loss 'kd:T=1e39': T must be a decimal number or a name, got '1e39'"),
            ("kd:T=", "--loss 'kd:T=': T must be a decimal number or a name, got ''"),
            ("kd:T=Fast", "--loss 'kd:T=Fast': T must be a decimal number or a name, got 'Fast'"),
        ]
        for (text, expected) in cases { XCTAssertEqual(message(text), expected, text) }
        let tooLong = String(repeating: "a", count: Specification.lengthLimit + 1)
        XCTAssertEqual(message(tooLong), "--loss '\(String(repeating: "a", count: 60))...': a specification has at most 1000 characters, got 1001")
    }

    func testSchemaRefusals() {
        let cases: [(String, String)] = [
            ("dkd:beta=x", "--loss 'dkd:beta=x': beta must be a number, got 'x'"),
            ("kd:T=inf", "--loss 'kd:T=inf': T must be a number, got 'inf'"),
            ("kd:alpha=1.5", "--loss 'kd:alpha=1.5': alpha must be in [0, 1], got 1.5"),
            ("kd:T=0", "--loss 'kd:T=0': T must be in (0, 1000], got 0"),
            ("kd:T=1001", "--loss 'kd:T=1001': T must be in (0, 1000], got 1001"),
            ("sgd:momentum=1", "--loss 'sgd:momentum=1': momentum must be in [0, 1), got 1"),
            ("ls:epsilon=-1", "--loss 'ls:epsilon=-1': epsilon must be in [0, inf), got -1"),
            ("dkd:beta", "--loss 'dkd:beta': beta needs a number, e.g. beta=8"),
            ("kdd", "--loss 'kdd': unknown name 'kdd'; expected one of kd, dkd, sgd, ce, multistep, ls"),
            ("dkd:gamma=1", "--loss 'dkd:gamma=1': dkd has no parameter 'gamma'; its parameters are alpha, beta, T"),
            ("dkd:t=4", "--loss 'dkd:t=4': dkd has no parameter 't'; its parameters are alpha, beta, T"),
            ("ce:T=4", "--loss 'ce:T=4': ce takes no parameters, got 'T'"),
            ("sgd:nesterov=1", "--loss 'sgd:nesterov=1': nesterov is a switch and takes no value: write :nesterov alone"),
            ("sgd:nesterov=true", "--loss 'sgd:nesterov=true': nesterov is a switch and takes no value: write :nesterov alone"),
            ("ls:reduction", "--loss 'ls:reduction': reduction needs one of mean, sum, e.g. reduction=mean"),
            ("ls:reduction=max", "--loss 'ls:reduction=max': reduction must be one of mean, sum, got 'max'"),
            ("ls:reduction=2", "--loss 'ls:reduction=2': reduction must be one of mean, sum, got '2'"),
            ("multistep:at=30//60", "--loss 'multistep:at=30//60': at must be decimal numbers separated by '/', got '30//60'"),
            ("multistep:at=30/x", "--loss 'multistep:at=30/x': at must be decimal numbers separated by '/', got '30/x'"),
            ("multistep:at=/30", "--loss 'multistep:at=/30': at must be decimal numbers separated by '/', got '/30'"),
            ("multistep:at=30/2000", "--loss 'multistep:at=30/2000': at must hold numbers in [0, 1000], got 2000"),
            ("multistep:at=-1", "--loss 'multistep:at=-1': at must hold numbers in [0, 1000], got -1"),
            ("multistep:at", "--loss 'multistep:at': at needs numbers separated by '/', e.g. at=30/60"),
            ("multistep:at=fast", "--loss 'multistep:at=fast': at needs numbers separated by '/', e.g. at=30/60"),
            ("kd:T=1/2", "--loss 'kd:T=1/2': T must be a number, got '1/2'"),
        ]
        for (text, expected) in cases { XCTAssertEqual(message(text), expected, text) }
        XCTAssertEqual(message("sgd:lr=0", flag: "--optimizer"), "--optimizer 'sgd:lr=0': lr must be in (0, 10], got 0")
        // A schema checks only its own name.
        XCTAssertThrowsError(try Self.schemas[0].validate(Specification.parse("dkd", flag: "--loss"), flag: "--loss")) {
            XCTAssertEqual(($0 as? TrainingError)?.description, "--loss 'dkd': unknown name 'dkd'; expected kd")
        }
    }

    // MARK: Fuzz

    /// Random strings over the grammar's alphabet and its separators, and valid specifications with
    /// characters deleted, duplicated, swapped or inserted: parse never traps, every refusal is one
    /// TrainingError line naming the flag, and every acceptance round-trips through its canonical text.
    func testFuzzedTextIsResolvedOrRefusedInOneLine() throws {
        var rng = SeededGenerator(seed: 0x5EC_F1A6)
        let seeds = ["kd", "kd:T=4", "dkd:alpha=1:beta=8:T=4", "kd:standardize", "sgd:momentum=0.9:nesterov", "ls:reduction=sum",
                     "ce", "sgd:lr=1e-3", "kd:alpha=0.25:T=2.5:standardize", "ls:epsilon=0.05:reduction=mean", "dkd:beta=8,kd",
                     "sgd:nesterov=1", "dkd:beta", "ls:reduction", "multistep:at=30/60", "multistep:at=1/2/3/4.5"]
        let alphabet: [Character] = Array("abcdeklmnrstuvxzgETA0123456789.-+_:=/, ") + ["\n", "\t", "'", "é", "\u{301}", "\r\n"]
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
        var (accepted, refused) = (0, 0)

        for index in 0..<4000 {
            var text: [Character]
            if index % 4 == 0 {
                text = (0..<below(24)).map { _ in pick(alphabet) }
            } else {
                text = Array(pick(seeds))
                for _ in 0..<below(3) where !text.isEmpty {
                    let i = below(text.count)
                    switch below(6) {
                    case 0: text.remove(at: i)
                    case 1: let j = min(text.count, i + 1 + below(6)); text.insert(contentsOf: text[i..<j], at: j)
                    case 2: if i + 1 < text.count { text.swapAt(i, i + 1) }
                    case 3: text.insert(pick(alphabet), at: i)
                    case 4:  // another value after an '=': in range or not, a number or a name
                        if let equals = text[i...].firstIndex(of: "=") {
                            let end = text[equals...].firstIndex(of: ":") ?? text.endIndex
                            text.replaceSubrange((equals + 1)..<end, with: pick(["0", "-1", "0.5", "1e3", "1001", "x", "mean", "sum", "inf", "", "1/2", "3//4", "5/"]))
                        }
                    default: text.append(contentsOf: ":" + String(pick(seeds).split(separator: ":").last!))
                    }
                }
                // Long parts under the length limit, and texts over it: every message stays short.
                if index % 50 == 2 { text += ":" + String(repeating: pick(["A", "b", "1", "="]), count: 300 + below(600)) }
                if index % 500 == 1 { text = Array(repeating: text, count: 1 + Specification.lengthLimit / max(text.count, 1)).flatMap { $0 } }
            }
            let input = String(text)
            do {
                let resolved = try Specification.parse(input, flag: "--loss", schemas: Self.schemas)
                accepted += 1
                XCTAssertFalse(input.unicodeScalars.contains { $0 == "," || $0 == " " }, input)
                let again = try Specification.parse(resolved.canonical, flag: "--loss", schemas: Self.schemas)
                XCTAssertEqual(again, resolved, input)
                XCTAssertEqual(try Specification.parse(input, flag: "--loss").name, resolved.name)
            } catch let error as TrainingError {
                refused += 1
                XCTAssertTrue(error.description.hasPrefix("--loss '"), error.description)
                XCTAssertFalse(error.description.unicodeScalars.contains { $0 == "\n" || $0 == "\r" }, error.description)
                XCTAssertLessThan(error.description.count, 300, error.description)
            } catch {
                XCTFail("\(input.debugDescription): not a TrainingError: \(error)")
            }
        }
        // Neither side may be vacuous (the counts are fixed by the seed).
        XCTAssertGreaterThan(accepted, 500)
        XCTAssertGreaterThan(refused, 1000)
    }
}
