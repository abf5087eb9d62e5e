import Foundation

/// The model registry on SQLite (`models` table, migration 2).
extension SQLiteRunStore {
    static let modelColumns = "name, sha256, size, kind, service, config, parents, run_id, created_at"

    public func registerModel(_ model: ModelRecord) throws {
        try ModelRecord.validate(model)
        _ = try withConnection { conn in
            try conn.query("""
                INSERT INTO models (\(Self.modelColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, kind = excluded.kind,
                  service = excluded.service, config = excluded.config, parents = excluded.parents,
                  run_id = excluded.run_id, created_at = excluded.created_at
                """, [.text(model.name), .text(model.sha256), .int(model.size), .text(model.kind), .text(model.service),
                      .text(model.configJSON), .text(model.parentsJSON), .string(model.runID), .date(model.createdAt)])
        }
    }

    public func model(name: String) throws -> ModelRecord? {
        try withConnection { conn in
            try conn.query("SELECT \(Self.modelColumns) FROM models WHERE name = ?1", [.text(name)])
                .first.map(Self.decodeModel)
        }
    }

    public func listModels(_ query: ModelQuery) throws -> [ModelRecord] {
        try RunStoreValidation.limit(query.limit, field: "limit")
        return try withConnection { conn in
            try conn.query("""
                SELECT \(Self.modelColumns) FROM models
                WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR kind = ?2)
                ORDER BY created_at DESC, name LIMIT ?3
                """, [.string(query.service), .string(query.kind), .int(Int64(query.limit))]).map(Self.decodeModel)
        }
    }

    @discardableResult
    public func removeModel(name: String) throws -> Bool {
        try withConnection { conn in
            let existed = try !conn.query("SELECT name FROM models WHERE name = ?1", [.text(name)]).isEmpty
            try conn.query("DELETE FROM models WHERE name = ?1", [.text(name)])
            return existed
        }
    }

    static func decodeModel(_ row: [SQLValue]) -> ModelRecord {
        ModelRecord(name: row[0].stringValue ?? "", sha256: row[1].stringValue ?? "", size: row[2].intValue ?? 0,
                    kind: row[3].stringValue ?? "", service: row[4].stringValue ?? "",
                    configJSON: row[5].stringValue ?? "{}", parents: ModelRecord.parents(fromJSON: row[6].stringValue),
                    runID: row[7].stringValue, createdAt: row[8].dateValue ?? Date(timeIntervalSince1970: 0))
    }
}
