import NN
import XCTest

/// A key given twice in one JSON object is found, with its path; the same key in different objects,
/// in arrays or as a value is not a repetition.
final class JSONDuplicateKeysTests: XCTestCase {
    private func first(_ text: String) -> String? { JSONDuplicateKeys.first(in: Array(text.utf8)) }

    func testRepeatedKeysAreFoundWithTheirPath() {
        XCTAssertEqual(first(#"{"a": 1, "a": 2}"#), "a")
        XCTAssertEqual(first(#"{"__metadata__": {"role": "student", "format": "x", "role": "teacher"}}"#), "__metadata__.role")
        XCTAssertEqual(first(#"{"config": {"layers": [{"config": {"padding": "same", "padding": "valid"}}]}}"#), "config.layers.config.padding")
        XCTAssertEqual(first(#"{"k\u0065y": 1, "key": 2}"#), "key", "escapes name the same key")
        XCTAssertEqual(first(#"{"\"q": 1, "\"q": 2}"#), "\"q")
    }

    func testKeysThatOnlyLookRepeatedAreNot() {
        XCTAssertNil(first(#"{"a": {"b": 1}, "b": {"a": 2}}"#))
        XCTAssertNil(first(#"{"a": "a", "b": ["a", "a"], "c": [{"a": 1}, {"a": 2}]}"#))
        XCTAssertNil(first(#"{"a,\"b": 1, "b": "{\"a\": 1, \"a\": 2}"}"#))
        XCTAssertNil(first(#"[1, 2, {"x": 1}]"#))
    }

    func testModelJSONWithARepeatedOptionIsRefused() {
        let json = #"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Flatten", "config": {"name": "f", "name": "g"}}]}}"#
        XCTAssertThrowsError(try ModelDescription(json: Array(json.utf8), source: "m.json")) {
            XCTAssertEqual("\($0)", "m.json: key config.layers.config.name appears twice in one object; expected each key once")
        }
    }
}
