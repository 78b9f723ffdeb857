import XCTest

final class NNTestsPlaceholder: XCTestCase {}
