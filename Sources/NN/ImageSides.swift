/// Four per-side amounts around an image, `((top, bottom), (left, right))`, read from an option in any of the three
/// spellings Keras accepts for ZeroPadding2D's `padding` and Cropping2D's `cropping`: one integer (every side), a
/// pair (rows, columns: symmetric) or a pair of pairs (the form `to_json()` writes).
struct ImageSides {
    let top: Int, bottom: Int, left: Int, right: Int

    init(_ config: LayerConfig, key: String, default fallback: Int) throws {
        let value = config[key] ?? .number(Double(fallback))
        let amount: (JSONValue) -> Int? = { $0.int.flatMap { (0...(1 << 16)).contains($0) ? $0 : nil } }
        let expected = "expected an integer, (rows, columns) or ((top, bottom), (left, right)) of integers in 0...65536"
        if let all = amount(value) {
            (top, bottom, left, right) = (all, all, all, all)
            return
        }
        guard let pair = value.array, pair.count == 2 else { throw config.error("option \(key) is \(value.text); \(expected)") }
        if let rows = amount(pair[0]), let columns = amount(pair[1]) {
            (top, bottom, left, right) = (rows, rows, columns, columns)
            return
        }
        guard let vertical = pair[0].array?.compactMap(amount), let horizontal = pair[1].array?.compactMap(amount),
              vertical.count == 2, horizontal.count == 2, pair[0].array?.count == 2, pair[1].array?.count == 2 else {
            throw config.error("option \(key) is \(value.text); \(expected)")
        }
        (top, bottom, left, right) = (vertical[0], vertical[1], horizontal[0], horizontal[1])
    }
}
