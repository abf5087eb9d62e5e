import ComputeCore
import XCTest
@testable import RecTok

final class RecTokPresetTests: XCTestCase {
    func testPlaceholder() {}
}
