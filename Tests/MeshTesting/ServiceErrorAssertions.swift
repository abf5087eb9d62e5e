import Foundation
import MeshKit
import RunStore
import XCTest

/// Asserts `body` throws a `ServiceError` with `code` whose field starts with `field`
/// (and, when given, whose message contains `mentioning`).
public func assertServiceError<T>(_ code: ServiceError.Code, field: String, mentioning: String? = nil,
                                  _ body: () async throws -> T,
                                  file: StaticString = #filePath, line: UInt = #line) async {
    do {
        _ = try await body()
        XCTFail("expected \(code.rawValue) on \(field)", file: file, line: line)
    } catch let e as ServiceError {
        XCTAssertEqual(e.code, code, "\(e)", file: file, line: line)
        XCTAssertTrue(e.field.hasPrefix(field), "field '\(e.field)' should name \(field): \(e)", file: file, line: line)
        if let mentioning { XCTAssertTrue(e.message.contains(mentioning), "'\(e.message)' should mention \(mentioning)", file: file, line: line) }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

/// Events of type `type` of a run, decoded from JSON (flushes the store first).
public func runEvents(_ store: RunStore, runID: String, type: String) throws -> [[String: Any]] {
    try store.flush()
    return try store.events(runID: runID, limit: 100_000).filter { $0.type == type }
        .compactMap { try? JSONSerialization.jsonObject(with: Data($0.payloadJSON.utf8)) as? [String: Any] }
}
