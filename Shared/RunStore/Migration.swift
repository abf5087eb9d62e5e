import Foundation

/// One versioned schema step, written once per dialect. Steps are applied in `version` order,
/// each exactly once per database, and recorded in `schema_migrations`.
///
/// To extend the schema (e.g. `models`, `concepts`), append a step with the next version to
/// `Migration.all` — never edit a step that has shipped.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    /// PostgreSQL statements (may contain several; run in the migration transaction).
    public var postgres: String
    /// SQLite statements (may contain several; run in the migration transaction).
    public var sqlite: String

    public init(version: Int, name: String, postgres: String, sqlite: String) {
        self.version = version; self.name = name; self.postgres = postgres; self.sqlite = sqlite
    }

    /// Every step the current code knows, in order.
    public static let all: [Migration] = [runsV1, modelsV2]

    /// Checks versions are positive, strictly increasing and unique.
    static func validate(_ steps: [Migration]) throws {
        var previous = 0
        for step in steps {
            guard step.version > previous else {
                throw RunStoreError.invalidArgument(
                    field: "migrations",
                    message: "version \(step.version) (\(step.name)) must be > \(previous); "
                        + "versions must be positive and strictly increasing")
            }
            previous = step.version
        }
    }

    /// Version 1: runs, run_events, artifacts.
    static let runsV1 = Migration(
        version: 1, name: "runs, run_events, artifacts",
        postgres: """
        CREATE TABLE runs (
            run_id        text PRIMARY KEY,
            request_id    text NOT NULL UNIQUE,
            service       text NOT NULL,
            kind          text NOT NULL,
            status        text NOT NULL CHECK (status IN
                          ('queued','running','succeeded','failed','cancelled','dead_lettered')),
            sequence      bigint NOT NULL CHECK (sequence > 0),
            config        jsonb NOT NULL DEFAULT '{}'::jsonb,
            git_commit    text NOT NULL DEFAULT '',
            worker        text NOT NULL DEFAULT '',
            attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at    timestamptz NOT NULL,
            enqueued_at   timestamptz,
            started_at    timestamptz,
            finished_at   timestamptz,
            queue_wait_ms double precision,
            duration_ms   double precision,
            request_body  bytea,
            result        bytea,
            error_code    text,
            error_field   text,
            error_message text
        );
        CREATE INDEX runs_service_created ON runs (service, created_at DESC);
        CREATE INDEX runs_status_created ON runs (status, created_at DESC);
        CREATE TABLE run_events (
            id      bigserial PRIMARY KEY,
            run_id  text NOT NULL,
            type    text NOT NULL,
            payload jsonb NOT NULL,
            at      timestamptz NOT NULL
        );
        CREATE INDEX run_events_run ON run_events (run_id, id);
        CREATE TABLE artifacts (
            sha256     char(64) PRIMARY KEY,
            size       bigint NOT NULL CHECK (size >= 0),
            path       text NOT NULL,
            media_type text NOT NULL,
            run_id     text,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX artifacts_run ON artifacts (run_id);
        """,
        sqlite: """
        CREATE TABLE runs (
            run_id        TEXT PRIMARY KEY,
            request_id    TEXT NOT NULL UNIQUE,
            service       TEXT NOT NULL,
            kind          TEXT NOT NULL,
            status        TEXT NOT NULL CHECK (status IN
                          ('queued','running','succeeded','failed','cancelled','dead_lettered')),
            sequence      INTEGER NOT NULL CHECK (sequence > 0),
            config        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
            git_commit    TEXT NOT NULL DEFAULT '',
            worker        TEXT NOT NULL DEFAULT '',
            attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at    REAL NOT NULL,
            enqueued_at   REAL,
            started_at    REAL,
            finished_at   REAL,
            queue_wait_ms REAL,
            duration_ms   REAL,
            request_body  BLOB,
            result        BLOB,
            error_code    TEXT,
            error_field   TEXT,
            error_message TEXT
        );
        CREATE INDEX runs_service_created ON runs (service, created_at DESC);
        CREATE INDEX runs_status_created ON runs (status, created_at DESC);
        CREATE TABLE run_events (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id  TEXT NOT NULL,
            type    TEXT NOT NULL,
            payload TEXT NOT NULL CHECK (json_valid(payload)),
            at      REAL NOT NULL
        );
        CREATE INDEX run_events_run ON run_events (run_id, id);
        CREATE TABLE artifacts (
            sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64),
            size       INTEGER NOT NULL CHECK (size >= 0),
            path       TEXT NOT NULL,
            media_type TEXT NOT NULL,
            run_id     TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX artifacts_run ON artifacts (run_id);
        """)

    /// Version 2: the model registry (name -> checkpoint artifact, kind, service, config, parents).
    static let modelsV2 = Migration(
        version: 2, name: "models",
        postgres: """
        CREATE TABLE models (
            name       text PRIMARY KEY,
            sha256     char(64) NOT NULL,
            size       bigint NOT NULL CHECK (size >= 0),
            kind       text NOT NULL,
            service    text NOT NULL,
            config     jsonb NOT NULL DEFAULT '{}'::jsonb,
            parents    jsonb NOT NULL DEFAULT '[]'::jsonb,
            run_id     text,
            created_at timestamptz NOT NULL
        );
        CREATE INDEX models_service_created ON models (service, created_at DESC);
        """,
        sqlite: """
        CREATE TABLE models (
            name       TEXT PRIMARY KEY,
            sha256     TEXT NOT NULL CHECK (length(sha256) = 64),
            size       INTEGER NOT NULL CHECK (size >= 0),
            kind       TEXT NOT NULL,
            service    TEXT NOT NULL,
            config     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
            parents    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(parents)),
            run_id     TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX models_service_created ON models (service, created_at DESC);
        """)
}
