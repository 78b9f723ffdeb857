import XCTest

final class CollectiveTestsPlaceholder: XCTestCase {}
