import Datasets
import Foundation
import Logging
import MeshKit
import MeshProto
import RunStore

/// A chaos run against the stack (RabbitMQ + PostgreSQL from `scripts/stack`): starts
/// `replicas` processes of each service, trains two tiny models, then pushes a mixed stream
/// (ping with work on both services, tokenizer encode/decode, decode.run) while it SIGKILLs
/// random workers and restarts the broker once and the database once. Afterwards it checks
/// the client's ledger against the audit (`ChaosResult`).
public final class ChaosRun: @unchecked Sendable {
    public let plan: ChaosPlan
    let fleet: ChaosFleet
    let environment: [String: String]
    let tag: String
    let ledger = ChaosLedger()
    private let lock = NSLock()
    private var kills = 0, brokerRestarts = 0, databaseRestarts = 0
    private var faultLog: [String] = []
    /// Seconds into the load when the fault phase ended (nil while it lasts).
    private var faultsEnded: Double?
    private var faultsEndedValue: Double? { lock.withLock { faultsEnded } }

    public init(plan: ChaosPlan, binDir: URL, repoRoot: URL, workDir: URL,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard environment["MESH_AMQP_URL"] != nil, environment["MESH_DATABASE_URL"] != nil else {
            throw ChaosError("MESH_AMQP_URL and MESH_DATABASE_URL must be set (eval \"$(scripts/stack up)\")")
        }
        self.plan = plan
        self.environment = environment
        tag = "chaos-\(UUID().uuidString.prefix(8).lowercased())"
        fleet = try ChaosFleet(binDir: binDir, repoRoot: repoRoot, workDir: workDir, environment: environment,
                               seed: plan.seed)
    }

    /// Runs setup, load and faults, drains, and returns the checked result. `say` gets progress lines.
    public func run(say: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ChaosResult {
        let amqp = environment["MESH_AMQP_URL"]!, db = environment["MESH_DATABASE_URL"]!
        defer { fleet.stopAll() }
        for service in ChaosPlan.services {
            for _ in 0..<plan.replicas {
                let fleet = self.fleet
                _ = try await Self.blocking { try fleet.spawn(service) }
            }
        }
        say("started \(plan.replicas) replicas of \(ChaosPlan.services.joined(separator: ", "))")
        let transport = try AMQPTransport(url: amqp, name: "chaos-client", logger: Logger(label: "chaos"))
        let templates = try await ChaosRequests.prepare(transport: transport, tag: tag, plan: plan, say: say)

        let replyQueue = "latentmesh.reply.\(tag)"
        let ledger = self.ledger
        let replies = try await transport.consumeReplies(queue: replyQueue) { d in
            guard let r = try? Latentmesh_V1_Reply(serializedBytes: d.body) else { return }
            let ok: Bool
            if case .result? = r.outcome { ok = true } else { ok = false }
            let code: String
            if case .error(let e)? = r.outcome { code = "\(e.code)" } else { code = "" }
            ledger.replied(d.properties.correlationID ?? r.requestID,
                           .init(at: Date(), runID: r.runID, worker: r.worker, fromStore: r.fromStore, ok: ok, errorCode: code))
        }

        say("load: \(Int(plan.faultWindow.start)) s before the faults, faults for at least \(Int(plan.faultWindow.end - plan.faultWindow.start)) s, \(Int(plan.afterSeconds)) s after")
        let start = Date()
        let faults = Task { () throws -> Void in
            do { try await self.runFaults(start: start, say: say) } catch {
                // End the load even if a fault could not be done; the error is reported below.
                self.lock.withLock { if self.faultsEnded == nil { self.faultsEnded = Date().timeIntervalSince(start) } }
                throw error
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for loop in 0..<plan.concurrency {
                group.addTask {
                    await self.clientLoop(loop, start: start, transport: transport, replyQueue: replyQueue, templates: templates)
                }
            }
        }
        let loadSeconds = Date().timeIntervalSince(start)
        try await faults.value
        say("load done: \(ledger.all.count) requests; draining (up to \(Int(plan.drainTimeout)) s)")

        let store = try await Self.blocking { try RunStores.open(url: db) }
        defer { store.close() }
        let confirmedIDs = ledger.all.filter(\.confirmed).map(\.requestID)
        let until = Date().addingTimeInterval(plan.drainTimeout)
        while Date() < until {
            let pending = try await Self.blocking {
                try confirmedIDs.filter { try !(store.run(requestID: $0)?.status.isTerminal ?? false) }.count
            }
            if pending == 0 { break }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        await replies.cancel()
        await transport.close()
        let counts = lock.withLock { (kills, brokerRestarts, databaseRestarts, faultLog, faultsEnded ?? 0) }
        return try ChaosResult.check(plan: plan, tag: tag, ledger: ledger.all, store: store,
                                     kills: counts.0, brokerRestarts: counts.1, databaseRestarts: counts.2,
                                     faults: counts.3, faultPhase: [plan.faultWindow.start, counts.4],
                                     seconds: loadSeconds)
    }

    /// One closed-loop client: send, wait for the reply (or the reply timeout), repeat.
    private func clientLoop(_ loop: Int, start: Date, transport: AMQPTransport, replyQueue: String,
                            templates: ChaosRequests) async {
        var rng = SeededRNG(seed: SeededRNG.derive(plan.seed, UInt64(loop + 1)))
        var n = 0
        while true {
            let t = Date().timeIntervalSince(start)
            let ended = faultsEndedValue
            if let ended, t >= ended + plan.afterSeconds { return }
            n += 1
            let id = "\(tag)-\(loop)-\(n)"
            let (kind, body) = templates.next(&rng, requestID: id)
            ledger.sent(id, kind: kind, phase: plan.phase(at: t, faultsEnded: ended))
            let props = MessageProperties(correlationID: id, replyTo: replyQueue, messageID: id, type: kind,
                                          timestampMs: Int64(Date().timeIntervalSince1970 * 1000))
            do {
                try await transport.publish(exchange: MeshTopology.workExchange, routingKey: kind, body: body, properties: props)
                ledger.confirmed(id)
                await ledger.waitForReply(id, timeout: plan.replyTimeout)
            } catch {
                // Not confirmed: the client may not count on it (a real client would retry).
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
    }

    /// The fault phase: a random worker is SIGKILLed every `killEvery` seconds throughout, while
    /// RabbitMQ is restarted (after half a kill interval) and then PostgreSQL (a kill interval
    /// after the broker is back). The phase ends at its planned end or when both restarts are
    /// done, whichever is later.
    private func runFaults(start: Date, say: @escaping @Sendable (String) -> Void) async throws {
        let (from, to) = plan.faultWindow
        func sleep(until t: Double) async throws {
            let wait = t - Date().timeIntervalSince(start)
            if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
        }
        try await sleep(until: from)
        let fleet = self.fleet
        let restarts = Task {
            for what in ["restart-rabbit", "restart-postgres"] {
                try await Task.sleep(nanoseconds: UInt64(plan.killEvery * 0.5e9))
                let began = Date().timeIntervalSince(start)
                try await Self.blocking { try fleet.restart(what) }
                let took = Date().timeIntervalSince(start) - began
                lock.withLock {
                    if what == "restart-rabbit" { brokerRestarts += 1 } else { databaseRestarts += 1 }
                    faultLog.append(String(format: "%.1f s: %@ (%.1f s)", began, what, took))
                }
                say(String(format: "%@ at %.0f s took %.1f s", what, began, took))
            }
        }
        var next = from + plan.killEvery / 2
        while true {
            let t = Date().timeIntervalSince(start)
            let restartsDone = lock.withLock { brokerRestarts + databaseRestarts == 2 }
            if t >= to && restartsDone { break }
            if t >= next {
                if let worker = try await Self.blocking({ try fleet.killRandomWorker() }) {
                    lock.withLock { kills += 1; faultLog.append(String(format: "%.1f s: SIGKILL %@", t, worker)) }
                }
                next += plan.killEvery
            }
            try await Task.sleep(nanoseconds: 100_000_000)
            if restarts.isCancelled { break }
        }
        try await restarts.value
        let end = Date().timeIntervalSince(start)
        lock.withLock { faultsEnded = end }
        say(String(format: "faults ended at %.0f s", end))
    }

    /// Runs blocking work (process waits, libpq) off the cooperative pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            Thread.detachNewThread { c.resume(with: Result { try body() }) }
        }
    }

    /// The replicas' log tails (for a failing check).
    public var logTails: String { fleet.logTails() }
}
