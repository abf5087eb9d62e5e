import ArgumentParser
import Foundation
import MeshKit
import RunStore

/// `meshctl runs list|show`: the audit.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List and show recorded runs.",
        subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Only this service.") var service: String?
        @Option(help: "Only this status (queued, running, succeeded, failed, cancelled, dead_lettered).") var status: String?
        @Option(help: "Only this kind (routing key).") var kind: String?
        @Option(help: "At most this many (1...10000).") var limit = 20
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit \(limit) is out of range 1...10000") }
            if let status, RunStatus(rawValue: status) == nil {
                throw ValidationError("--status '\(status)': expected one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let store = try openStore(connection)
            defer { store.close() }
            let runs = try store.listRuns(RunQuery(service: service, status: status.flatMap(RunStatus.init(rawValue:)),
                                                   kind: kind, limit: limit))
            if json { printJSON(runs.map(runJSON)); return }
            print(pad("RUN", 38) + pad("KIND", 24) + pad("STATUS", 14) + pad("TRY", 4) + pad("MS", 10) + "WORKER")
            for r in runs {
                print(pad(r.runID, 38) + pad(r.kind, 24) + pad(r.status.rawValue, 14) + pad(String(r.attempts), 4)
                      + pad(r.durationMs.map { String(format: "%.1f", $0) } ?? "-", 10) + r.worker)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run with its events.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Run id or request id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try openStore(connection)
            defer { store.close() }
            guard let r = try store.run(id: id) ?? store.run(requestID: id) else {
                throw ValidationFailure("no run with run id or request id '\(id)'")
            }
            let events = try store.events(runID: r.runID, limit: 1000)
            var obj = runJSON(r)
            obj["events"] = events.map { ["type": $0.type, "at": iso($0.at), "payload": $0.payloadJSON] }
            if json { printJSON(obj); return }
            for key in obj.keys.sorted() where key != "events" { print(pad(key, 16) + "\(obj[key]!)") }
            print("events (\(events.count)):")
            for e in events { print("  \(iso(e.at))  \(pad(e.type, 10)) \(e.payloadJSON)") }
        }
    }
}

func openStore(_ c: ConnectionOptions) throws -> RunStore {
    let url = c.resolvedAMQP != nil || (c.db != nil)
        ? (c.resolvedDB ?? "") : "sqlite:" + URL(fileURLWithPath: c.home).appendingPathComponent("mesh.sqlite").path
    guard !url.isEmpty else { throw ValidationFailure("--db (or MESH_DATABASE_URL) is required with a stack") }
    if url.hasPrefix("sqlite:") {
        try FileManager.default.createDirectory(atPath: c.home, withIntermediateDirectories: true)
    }
    let store = try RunStores.open(url: url)
    try store.migrate()
    return store
}

func iso(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }

func runJSON(_ r: RunRecord) -> [String: Any] {
    var o: [String: Any] = [
        "run_id": r.runID, "request_id": r.requestID, "service": r.service, "kind": r.kind,
        "status": r.status.rawValue, "sequence": r.sequence, "worker": r.worker, "attempts": r.attempts,
        "git_commit": r.gitCommit, "created_at": iso(r.createdAt),
    ]
    if let cfg = try? JSONSerialization.jsonObject(with: Data(r.configJSON.utf8)) { o["config"] = cfg }
    if let s = r.startedAt { o["started_at"] = iso(s) }
    if let f = r.finishedAt { o["finished_at"] = iso(f) }
    if let q = r.queueWaitMs { o["queue_wait_ms"] = q }
    if let d = r.durationMs { o["duration_ms"] = d }
    if let e = r.error { o["error"] = ["code": e.code, "field": e.field, "message": e.message] }
    if let res = r.result { o["result_bytes"] = res.count }
    return o
}
