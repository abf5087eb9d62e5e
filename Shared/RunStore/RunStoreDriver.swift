import Foundation

/// The row-level primitives a backend gives the shared run logic (`RunTransitions`).
/// Called with the store's connection lock held.
protocol RunStoreDriver: AnyObject {
    /// Runs `body` in a write transaction: Postgres `BEGIN`/`COMMIT` with rows locked by
    /// `SELECT ... FOR UPDATE`; SQLite `BEGIN IMMEDIATE` (the database write lock).
    func inTransaction<T>(_ body: () throws -> T) throws -> T
    /// Inserts a run unless its request_id exists (`ON CONFLICT (request_id) DO NOTHING`);
    /// returns the stored row, or nil on conflict.
    func insertRun(_ record: RunRecord, enqueuedAt: Date?, requestBody: Data?) throws -> RunRecord?
    /// Reads a run and locks its row until the transaction ends.
    func lockRun(requestID: String) throws -> RunRecord?
    func lockRun(runID: String) throws -> RunRecord?
    /// Reads a run without locking it.
    func readRun(runID: String) throws -> RunRecord?
    /// Writes the mutable state of a run (status, sequence, attempts, worker, timings, result,
    /// error) if its stored sequence still equals `expectedSequence` (compare-and-set); returns
    /// the stored row, or nil if another writer changed the run first.
    func updateRun(_ record: RunRecord, expectedSequence: Int64) throws -> RunRecord?
}
