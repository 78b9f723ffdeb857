import Foundation

/// How figures are written in logs and tables.
public func percent(_ value: Double) -> String { String(format: "%.2f%%", 100 * value) }
public func fixed(_ value: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", value) }
public func epochs(_ count: Int) -> String { count == 1 ? "1 epoch" : "\(count) epochs" }
