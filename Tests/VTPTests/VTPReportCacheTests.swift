import XCTest
@testable import VTP

/// Report cache entries are keyed by the resolved config: any change gives a new tag.
final class VTPReportCacheTests: XCTestCase {
    func testCacheTagFollowsTheResolvedConfig() throws {
        let cfg = try VTPPresets.resolve("vtp-fmnist32-xs")
        XCTAssertEqual(try VTPReport.cacheTag(cfg, budget: 1), try VTPReport.cacheTag(cfg, budget: 1))
        XCTAssertTrue(try VTPReport.cacheTag(cfg, budget: 1).hasPrefix("vtp-fmnist32-xs-x1.0-"))
        var changed = cfg
        changed.loss.recWeight += 0.01
        XCTAssertNotEqual(try VTPReport.cacheTag(cfg, budget: 1), try VTPReport.cacheTag(changed, budget: 1))
        changed = cfg
        changed.train.seed = cfg.train.seed + 1
        XCTAssertNotEqual(try VTPReport.cacheTag(cfg, budget: 1), try VTPReport.cacheTag(changed, budget: 1))
        XCTAssertNotEqual(try VTPReport.cacheTag(cfg, budget: 1), try VTPReport.cacheTag(cfg, budget: 3))
    }
}
