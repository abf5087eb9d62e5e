import XCTest
@testable import MeshKit

final class AMQPURLTests: XCTestCase {
    func testParsesFullURL() throws {
        let u = try AMQPURL("amqp://guest:gu%40st@127.0.0.1:5673/%2f?heartbeat=10")
        XCTAssertEqual(u.host, "127.0.0.1")
        XCTAssertEqual(u.port, 5673)
        XCTAssertEqual(u.user, "guest")
        XCTAssertEqual(u.password, "gu@st")
        XCTAssertEqual(u.vhost, "/")
        XCTAssertEqual(u.heartbeat, 10)
        XCTAssertFalse(u.description.contains("gu@st"), "the password must not be printed")
    }

    func testDefaults() throws {
        let u = try AMQPURL("amqp://rabbit")
        XCTAssertEqual(u.port, 5672)
        XCTAssertEqual(u.user, "guest")
        XCTAssertEqual(u.vhost, "/")
        XCTAssertEqual(try AMQPURL("amqp://h/mesh").vhost, "mesh")
    }

    func testErrorsNameTheBadPart() {
        func field(_ s: String) -> String? {
            do { _ = try AMQPURL(s); return nil } catch TransportError.invalidArgument(let f, _) { return f } catch { return "?" }
        }
        XCTAssertEqual(field("http://h"), "amqp url scheme")
        XCTAssertEqual(field("rabbit:5672"), "amqp url scheme")
        XCTAssertEqual(field("amqp://h:99999/"), "amqp url port")
        XCTAssertEqual(field("amqp://h:abc/"), "amqp url port")
        XCTAssertEqual(field("amqp://user:pw@/"), "amqp url host")
        XCTAssertEqual(field("amqp://h/?heartbeat=-1"), "amqp url heartbeat")
        XCTAssertThrowsError(try AMQPTransport(url: "amqp://h:0", name: "t"))
    }

    /// No broker listens on port 1: calls fail with clear errors after their timeouts, reconnect attempts don't crash.
    func testUnreachableBrokerFailsCleanly() async throws {
        let t = try AMQPTransport(url: "amqp://guest:guest@127.0.0.1:1/%2f", name: "unreachable",
                                  publishTimeout: 0.5, operationTimeout: 0.5)
        do { _ = try await t.messageCount(queue: "q"); XCTFail("must fail") }
        catch TransportError.unavailable {}
        do {
            try await t.publish(exchange: MeshTopology.workExchange, routingKey: "k", body: Data(), properties: .init())
            XCTFail("must fail")
        } catch TransportError.timeout {}
        do { _ = try await t.consume(queue: "q", prefetch: 1) { _ in }; XCTFail("must fail") }
        catch TransportError.unavailable {}
        await t.close()
        do { _ = try await t.messageCount(queue: "q"); XCTFail("closed transport must refuse") }
        catch TransportError.closed {}
    }
}
