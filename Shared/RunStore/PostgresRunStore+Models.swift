import Foundation

/// The model registry on PostgreSQL (`models` table, migration 2).
extension PostgresRunStore {
    static let modelColumns = "name, sha256, size, kind, service, config::text, parents::text, run_id, extract(epoch FROM created_at)::float8"

    public func registerModel(_ model: ModelRecord) throws {
        try ModelRecord.validate(model)
        _ = try withConnection { conn in
            try conn.execute(prepared: "lm_register_model", sql: """
                INSERT INTO models (name, sha256, size, kind, service, config, parents, run_id, created_at)
                VALUES ($1, $2, $3::bigint, $4, $5, $6::jsonb, $7::jsonb, $8, to_timestamp($9::float8))
                ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size, kind = EXCLUDED.kind,
                  service = EXCLUDED.service, config = EXCLUDED.config, parents = EXCLUDED.parents,
                  run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at
                """, [.text(model.name), .text(model.sha256), .int(model.size), .text(model.kind), .text(model.service),
                      .text(model.configJSON), .text(model.parentsJSON), .string(model.runID), .date(model.createdAt)])
        }
    }

    public func model(name: String) throws -> ModelRecord? {
        try withConnection { conn in
            try conn.execute(prepared: "lm_model", sql: "SELECT \(Self.modelColumns) FROM models WHERE name = $1",
                             [.text(name)]).first.map(Self.decodeModel)
        }
    }

    public func listModels(_ query: ModelQuery) throws -> [ModelRecord] {
        try RunStoreValidation.limit(query.limit, field: "limit")
        return try withConnection { conn in
            try conn.query("""
                SELECT \(Self.modelColumns) FROM models
                WHERE ($1::text IS NULL OR service = $1) AND ($2::text IS NULL OR kind = $2)
                ORDER BY created_at DESC, name LIMIT $3::int
                """, [.string(query.service), .string(query.kind), .int(Int64(query.limit))]).rows.map(Self.decodeModel)
        }
    }

    @discardableResult
    public func removeModel(name: String) throws -> Bool {
        try withConnection { conn in
            try conn.query("DELETE FROM models WHERE name = $1", [.text(name)]).affected > 0
        }
    }

    static func decodeModel(_ row: [String?]) -> ModelRecord {
        ModelRecord(name: row[0] ?? "", sha256: row[1] ?? "", size: PGDecode.int(row[2]) ?? 0, kind: row[3] ?? "",
                    service: row[4] ?? "", configJSON: row[5] ?? "{}", parents: ModelRecord.parents(fromJSON: row[6]),
                    runID: row[7], createdAt: PGDecode.date(row[8]) ?? Date(timeIntervalSince1970: 0))
    }
}
