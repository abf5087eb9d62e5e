import Foundation
import XCTest
@testable import RunStore

/// Unique ids so tests sharing one database never collide.
func uniqueID(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.lowercased().prefix(13))"
}

func makeStart(_ tag: String = uniqueID("t"), service: String = "tokenizer-svc", kind: String = "tokenizer.encode",
               worker: String = "w1", body: Data? = nil) -> RunStart {
    RunStart(runID: "run-\(tag)", requestID: "req-\(tag)", service: service, kind: kind, worker: worker,
             configJSON: #"{"vocab": 512, "lr": 0.001}"#, gitCommit: "abc1234",
             enqueuedAt: Date().addingTimeInterval(-0.25), requestBody: body)
}

/// The database URL for Postgres tests: MESH_DATABASE_URL, or XCTSkip (XCTFail when
/// MESH_REQUIRE_SERVERS=1).
func requirePostgresURL() throws -> String {
    let env = ProcessInfo.processInfo.environment
    if let url = env["MESH_DATABASE_URL"], !url.isEmpty { return url }
    if env["MESH_REQUIRE_SERVERS"] == "1" {
        XCTFail("MESH_DATABASE_URL is not set but MESH_REQUIRE_SERVERS=1")
        throw RunStoreError.connection("MESH_DATABASE_URL missing")
    }
    throw XCTSkip("MESH_DATABASE_URL not set (start servers with scripts/stack up)")
}

/// A place where stores can be opened: one Postgres schema or one SQLite file.
protocol StoreNamespace {
    /// Opens a store in this namespace (not migrated).
    func open(eventBatchSize: Int, eventFlushInterval: TimeInterval, migrations: [Migration]) throws -> RunStore
    /// Removes the namespace (drops the schema / deletes the folder).
    func destroy()
}

extension StoreNamespace {
    /// Opens and migrates a store with the default migrations.
    func openMigrated(eventBatchSize: Int = 256, eventFlushInterval: TimeInterval = 60) throws -> RunStore {
        let store = try open(eventBatchSize: eventBatchSize, eventFlushInterval: eventFlushInterval,
                             migrations: Migration.all)
        try store.migrate()
        return store
    }
}

struct PostgresNamespace: StoreNamespace {
    let url: String
    let schema: String

    init(url: String) {
        self.url = url
        schema = "lm_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    }

    func open(eventBatchSize: Int, eventFlushInterval: TimeInterval = 60, migrations: [Migration]) throws -> RunStore {
        try PostgresRunStore(url: url, schema: schema, eventBatchSize: eventBatchSize,
                             eventFlushInterval: eventFlushInterval, migrations: migrations)
    }

    func destroy() {
        guard let conn = try? PGConnection(conninfo: url) else { return }
        try? conn.exec("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE")
        conn.close()
    }
}

struct SQLiteNamespace: StoreNamespace {
    let folder: URL
    var path: String { folder.appendingPathComponent("runs.sqlite").path }

    init() {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("runstore-\(UUID().uuidString)")
    }

    func open(eventBatchSize: Int, eventFlushInterval: TimeInterval = 60, migrations: [Migration]) throws -> RunStore {
        try SQLiteRunStore(path: path, eventBatchSize: eventBatchSize, eventFlushInterval: eventFlushInterval,
                           migrations: migrations)
    }

    func destroy() { try? FileManager.default.removeItem(at: folder) }
}
