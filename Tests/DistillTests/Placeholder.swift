import XCTest

final class DistillTestsPlaceholder: XCTestCase {}
