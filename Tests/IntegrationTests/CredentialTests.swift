import Foundation
import MeshTesting
import Logging
import MeshKit
import MeshProto
import RunStore
import XCTest

/// Locked-down credentials: the stack listens on loopback only, has no guest broker user and
/// password-only database logins; services refuse the broker's default credentials on a
/// non-loopback host; no credential shows in logs, describe, run records or errors.
final class CredentialTests: XCTestCase {
    /// The password of a URL (`scheme://user:password@...`).
    static func password(_ url: String) -> String? {
        guard let s = url.range(of: "://"), let at = url[s.upperBound...].firstIndex(of: "@") else { return nil }
        let userinfo = url[s.upperBound..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return nil }
        return String(userinfo[userinfo.index(after: colon)...])
    }

    static func port(_ url: String) -> Int? {
        guard let r = url.range(of: #":(\d+)/"#, options: [.regularExpression, .backwards]) else { return nil }
        return Int(url[r].dropFirst().dropLast())
    }

    /// Listening TCP sockets (IPv4 and IPv6) from /proc/net: port -> local addresses (hex).
    static func listeners() -> [Int: [String]] {
        var out: [Int: [String]] = [:]
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count > 3, f[3] == "0A" else { continue }   // TCP_LISTEN
                let local = f[1].split(separator: ":")
                guard local.count == 2, let port = Int(local[1], radix: 16) else { continue }
                out[port, default: []].append(String(local[0]))
            }
        }
        return out
    }

    func testStackListensOnLoopbackOnly() throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let amqpPort = try XCTUnwrap(Self.port(amqp)), pgPort = try XCTUnwrap(Self.port(db))
        let epmd = Int(ProcessInfo.processInfo.environment["MESH_EPMD_PORT"] ?? "") ?? 4369
        let listening = Self.listeners()
        let loopback: Set<String> = ["0100007F", "00000000000000000000000001000000"]   // 127.0.0.1, ::1
        XCTAssertNotNil(listening[amqpPort], "RabbitMQ listens on \(amqpPort)")
        XCTAssertNotNil(listening[pgPort], "PostgreSQL listens on \(pgPort)")
        for (name, port) in [("amqp", amqpPort), ("erlang distribution", amqpPort + 20000), ("postgres", pgPort), ("epmd", epmd)] {
            for address in listening[port] ?? [] {
                XCTAssertTrue(loopback.contains(address), "\(name) port \(port) listens on \(address), not loopback")
            }
        }
    }

    func testBrokerHasNoGuestAndDatabaseNeedsThePassword() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let port = try XCTUnwrap(Self.port(amqp))
        XCTAssertFalse(amqp.contains("guest"), "the stack's broker user is not guest")
        let guest = try AMQPTransport(url: "amqp://guest:guest@127.0.0.1:\(port)/%2f", name: "guest-probe",
                                      logger: Logger(label: "test"), publishTimeout: 3)
        do {
            try await guest.publish(exchange: "", routingKey: "nowhere", body: Data("x".utf8), properties: MessageProperties())
            XCTFail("guest/guest was accepted by the broker")
        } catch {}
        await guest.close()

        let pw = try XCTUnwrap(Self.password(db), "the database URL carries a password")
        let wrong = db.replacingOccurrences(of: ":\(pw)@", with: ":not-the-password-123@")
        XCTAssertThrowsError(try RunStores.open(url: wrong)) { e in
            XCTAssertFalse("\(e)".contains("not-the-password-123"), "the error shows the password: \(e)")
        }
        let none = db.replacingOccurrences(of: ":\(pw)@", with: "@")
        XCTAssertThrowsError(try RunStores.open(url: none), "a login without password is refused")
    }

    func testServiceRefusesDefaultBrokerCredentialsOnNonLoopbackHost() throws {
        for url in ["amqp://guest:guest@rabbit.example:5672/%2f", "amqp://rabbit.example:5672/%2f"] {
            XCTAssertThrowsError(try ServiceConfig.resolve(service: "decode", arguments: [], environment: ["MESH_AMQP_URL": url])) { e in
                let ce = e as? ServiceConfig.ConfigError
                XCTAssertEqual(ce?.field, "MESH_AMQP_URL")
                XCTAssertTrue(ce?.message.contains("default guest credentials") ?? false, "\(e)")
            }
        }
        for url in ["amqp://guest:guest@127.0.0.1:5672/%2f", "amqp://guest:guest@localhost/%2f",
                    "amqp://mesh:s3cret@rabbit.example:5672/%2f"] {
            XCTAssertNoThrow(try ServiceConfig.resolve(service: "decode", arguments: [], environment: ["MESH_AMQP_URL": url]), url)
        }
        // The real executable exits with the configuration error before connecting anywhere.
        let svc = try ServiceProcess("tokenizer", worker: "guest-\(getpid())",
                                     extraEnv: ["MESH_AMQP_URL": "amqp://guest:guest@rabbit.example:5672/%2f"])
        try svc.process.run()
        XCTAssertEqual(svc.waitExit(timeout: 20), 2)
        XCTAssertTrue(svc.log.contains("MESH_AMQP_URL") && svc.log.contains("default guest credentials"), svc.log)
    }

    /// A service at debug log level serves describe, a ping and a failing request: neither
    /// password appears in its log, the describe answer, the run records or the errors.
    func testNoCredentialInLogsDescribeRunRecordsOrErrors() async throws {
        let amqp = try TestEnvironment.amqpURL(), db = try TestEnvironment.databaseURL()
        let secrets = [Self.password(amqp), Self.password(db)].compactMap { $0 }.filter { !$0.isEmpty }
        XCTAssertEqual(secrets.count, 2, "both stack URLs carry passwords")
        let svc = try ServiceProcess("tokenizer", worker: "creds-\(getpid())", extraEnv: ["MESH_LOG_LEVEL": "debug"])
        try svc.start()
        defer { svc.stop() }
        let transport = try AMQPTransport(url: amqp, name: "creds-test", logger: Logger(label: "test"))
        let client = try await MeshClient(transport: transport, clientName: "creds-test")
        let d = try await client.call("tokenizer.describe", Latentmesh_V1_DescribeRequest(),
                                      as: Latentmesh_V1_ServiceDescription.self, timeout: .seconds(30))
        var ping = Latentmesh_V1_PingRequest()
        ping.workMs = 5
        let ok = try await client.call("tokenizer.ping", ping, as: Latentmesh_V1_PingResponse.self, timeout: .seconds(30))
        ping.workMs = 999_999
        let bad = try await client.callRaw("tokenizer.ping", ping, timeout: .seconds(30))
        var encode = Latentmesh_V1_EncodeRequest()
        encode.checkpointName = "no-such-checkpoint"
        encode.imagesPng = [Data("not a png".utf8)]
        let bad2 = try await client.callRaw("tokenizer.encode", encode, timeout: .seconds(30))
        await client.close()
        await transport.close()
        svc.stop()

        let store = try RunStores.open(url: db)
        defer { store.close() }
        var texts: [(String, String)] = [("log", svc.log), ("describe", "\(d.response.config)")]
        for reply in [ok.reply, bad, bad2] {
            texts.append(("reply", "\(reply)"))
            let run = try XCTUnwrap(try store.run(requestID: reply.requestID))
            texts.append(("run record", "\(run.configJSON) \(String(describing: run.error))"))
        }
        XCTAssertTrue(d.response.config["amqp_url"]?.contains(":***@") ?? false, "describe shows the redacted URL")
        for secret in secrets {
            for (what, text) in texts {
                XCTAssertFalse(text.contains(secret), "a password appears in the \(what)")
            }
        }
        // Errors about malformed URLs hide the password too.
        XCTAssertThrowsError(try RunStores.open(url: "mysql://u:hunter2secret@db.example/x")) { e in
            XCTAssertFalse("\(e)".contains("hunter2secret"), "\(e)")
        }
        XCTAssertThrowsError(try AMQPURL("amqp://u:hunter2secret@host:notaport/%2f")) { e in
            XCTAssertFalse("\(e)".contains("hunter2secret"), "\(e)")
        }
    }
}
