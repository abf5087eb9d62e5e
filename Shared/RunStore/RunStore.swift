import Foundation

/// The audit store every service records its runs in: PostgreSQL (libpq) in a stack,
/// SQLite for the embedded mode. Implementations are thread-safe.
///
/// Idempotency: `request_id` is unique. `beginRun` on a request whose run already reached
/// a terminal status returns `.finished` with the stored outcome; the caller re-sends it
/// and never runs the work again.
public protocol RunStore: AnyObject, Sendable {
    /// Which backend ("postgres" or "sqlite").
    var backend: String { get }

    /// Applies pending versioned migrations; safe to call on every start.
    func migrate() throws

    /// Records that a worker starts (or restarts after a redelivery) the run of a request.
    func beginRun(_ start: RunStart) throws -> BeginOutcome

    /// Moves a run to a terminal status with its result bytes or error. Returns the stored record.
    @discardableResult
    func finishRun(runID: String, status: RunStatus, result: Data?, error: RunError?) throws -> RunRecord

    /// Moves a non-terminal run to another non-terminal status (e.g. running -> queued on requeue).
    @discardableResult
    func updateStatus(runID: String, to status: RunStatus) throws -> RunRecord

    /// Records a request that could not even be parsed (it is dead-lettered, not run).
    func recordRejected(_ start: RunStart, error: RunError) throws -> RunRecord

    /// Appends an event (progress, status, ...) to a run; may be buffered and written in batches.
    func appendEvent(_ event: RunEvent) throws

    /// Writes buffered events now.
    func flush() throws

    func run(id: String) throws -> RunRecord?
    func run(requestID: String) throws -> RunRecord?
    func listRuns(_ query: RunQuery) throws -> [RunRecord]
    func events(runID: String, limit: Int) throws -> [RunEvent]

    /// Registers a content-addressed artifact (idempotent on sha256).
    func recordArtifact(_ artifact: ArtifactRecord) throws
    func artifact(sha256: String) throws -> ArtifactRecord?

    /// Registers the model `model.name`, replacing an entry of the same name.
    func registerModel(_ model: ModelRecord) throws
    /// The model called `name`, or nil.
    func model(name: String) throws -> ModelRecord?
    /// Registered models, newest first.
    func listModels(_ query: ModelQuery) throws -> [ModelRecord]
    /// Removes the entry called `name` (the checkpoint artifact stays); whether it existed.
    @discardableResult
    func removeModel(name: String) throws -> Bool

    func close()
}

/// Lifecycle of a run. Terminal: succeeded, failed, cancelled, deadLettered.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, cancelled
    case deadLettered = "dead_lettered"

    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled, .deadLettered: return true
        case .queued, .running: return false
        }
    }
}

/// What a worker knows when it picks up a request.
public struct RunStart: Sendable, Equatable {
    public var runID: String
    public var requestID: String
    public var service: String
    public var kind: String                 // routing key, e.g. "tokenizer.encode"
    public var worker: String
    public var configJSON: String           // resolved configuration of this run
    public var gitCommit: String
    public var enqueuedAt: Date?            // publish time from the message, for queue wait
    public var requestBody: Data?
    /// True when the message was delivered for the first time (not a broker redelivery): a run
    /// already in progress for this request_id then comes from a second publish (a client retry
    /// after a dropped connection), which must wait for that run instead of restarting it.
    public var firstDelivery: Bool

    public init(runID: String, requestID: String, service: String, kind: String, worker: String,
                configJSON: String = "{}", gitCommit: String = "", enqueuedAt: Date? = nil,
                requestBody: Data? = nil, firstDelivery: Bool = false) {
        self.runID = runID; self.requestID = requestID; self.service = service; self.kind = kind
        self.worker = worker; self.configJSON = configJSON; self.gitCommit = gitCommit
        self.enqueuedAt = enqueuedAt; self.requestBody = requestBody; self.firstDelivery = firstDelivery
    }
}

public enum BeginOutcome: Sendable, Equatable {
    /// First time this request_id is seen: a new run in status running, attempts 1.
    case started(RunRecord)
    /// Seen before, not finished (a redelivery after a crash): attempts incremented, running again.
    case restarted(RunRecord)
    /// Already terminal: re-send this stored outcome, do not run again.
    case finished(RunRecord)
    /// Seen before and still queued or running elsewhere, and this is a first delivery (a second
    /// publish of the same request, not a redelivery): nothing changed; wait for that run's outcome.
    case inProgress(RunRecord)
}

public struct RunError: Sendable, Equatable, Codable {
    public var code: String                 // INVALID_ARGUMENT, NOT_FOUND, ...
    public var field: String
    public var message: String
    public init(code: String, field: String = "", message: String) {
        self.code = code; self.field = field; self.message = message
    }
}

public struct RunRecord: Sendable, Equatable {
    public var runID: String
    public var requestID: String
    public var service: String
    public var kind: String
    public var status: RunStatus
    public var sequence: Int64              // increases by one on every status change
    public var configJSON: String
    public var gitCommit: String
    public var worker: String
    public var attempts: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var queueWaitMs: Double?
    public var durationMs: Double?          // finishedAt - startedAt (last attempt)
    public var result: Data?
    public var error: RunError?

    public init(runID: String, requestID: String, service: String, kind: String, status: RunStatus,
                sequence: Int64, configJSON: String, gitCommit: String, worker: String, attempts: Int,
                createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil,
                queueWaitMs: Double? = nil, durationMs: Double? = nil, result: Data? = nil,
                error: RunError? = nil) {
        self.runID = runID; self.requestID = requestID; self.service = service; self.kind = kind
        self.status = status; self.sequence = sequence; self.configJSON = configJSON
        self.gitCommit = gitCommit; self.worker = worker; self.attempts = attempts
        self.createdAt = createdAt; self.startedAt = startedAt; self.finishedAt = finishedAt
        self.queueWaitMs = queueWaitMs; self.durationMs = durationMs; self.result = result
        self.error = error
    }
}

public struct RunEvent: Sendable, Equatable {
    public var runID: String
    public var type: String                 // "progress", "status", "log", ...
    public var payloadJSON: String
    public var at: Date
    public init(runID: String, type: String, payloadJSON: String, at: Date = Date()) {
        self.runID = runID; self.type = type; self.payloadJSON = payloadJSON; self.at = at
    }
}

public struct RunQuery: Sendable, Equatable {
    public var service: String?
    public var status: RunStatus?
    public var kind: String?
    public var limit: Int
    public init(service: String? = nil, status: RunStatus? = nil, kind: String? = nil, limit: Int = 50) {
        self.service = service; self.status = status; self.kind = kind; self.limit = limit
    }
}

public struct ArtifactRecord: Sendable, Equatable {
    public var sha256: String
    public var size: Int64
    public var path: String                 // relative to the artifact root
    public var mediaType: String
    public var runID: String?
    public var createdAt: Date
    public init(sha256: String, size: Int64, path: String, mediaType: String, runID: String? = nil,
                createdAt: Date = Date()) {
        self.sha256 = sha256; self.size = size; self.path = path; self.mediaType = mediaType
        self.runID = runID; self.createdAt = createdAt
    }
}
