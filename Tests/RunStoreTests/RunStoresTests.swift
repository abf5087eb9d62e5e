import XCTest
@testable import RunStore

final class RunStoresTests: XCTestCase {
    func testTargetsFromURLs() throws {
        XCTAssertEqual(try RunStores.Target("postgresql://u@h:5432/db"), .postgres("postgresql://u@h:5432/db"))
        XCTAssertEqual(try RunStores.Target("postgres://h/db"), .postgres("postgres://h/db"))
        XCTAssertEqual(try RunStores.Target("sqlite:.latentmesh/runs.sqlite"), .sqlite(".latentmesh/runs.sqlite"))
        XCTAssertEqual(try RunStores.Target("sqlite:///tmp/x.db"), .sqlite("/tmp/x.db"))
        XCTAssertEqual(try RunStores.Target("/var/lib/mesh/runs.db"), .sqlite("/var/lib/mesh/runs.db"))
        XCTAssertThrowsError(try RunStores.Target("mysql://h/db")) {
            guard case .invalidURL(let message) = $0 as? RunStoreError else { return XCTFail("\($0)") }
            XCTAssertTrue(message.contains("mysql"), message)
        }
        XCTAssertThrowsError(try RunStores.Target(""))
        XCTAssertThrowsError(try RunStores.Target("sqlite:"))
    }

    func testOpenSQLiteFromPlainPathMigrates() throws {
        let namespace = SQLiteNamespace()
        defer { namespace.destroy() }
        let store = try RunStores.open(url: namespace.path)
        defer { store.close() }
        XCTAssertEqual(store.backend, "sqlite")
        guard case .started = try store.beginRun(makeStart()) else { return XCTFail("store is migrated") }
    }

    func testArtifactPathRejectsBadDigests() {
        XCTAssertThrowsError(try ArtifactStore.relativePath(sha256: String(repeating: "A", count: 64)))
        XCTAssertEqual(try ArtifactStore.relativePath(sha256: String(repeating: "ab", count: 32)),
                       "ab/" + String(repeating: "ab", count: 31))
    }
}
