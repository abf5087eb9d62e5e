import ArgumentParser
import Foundation
import MeshKit
import MeshProto
import ServiceCatalog
import SwiftProtobuf

/// `meshctl describe [SERVICE] [--json]`.
struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Describe services: version, methods, resolved configuration, and every running replica.")

    @Argument(help: "One of tokenizer, generator, personalize, decode, distill (default: all).")
    var service: String?

    @Flag(help: "Print JSON.") var json = false

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if let service, !ServiceCatalog.names.contains(service) {
            throw ValidationError("unknown service '\(service)': expected one of \(ServiceCatalog.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let session = try await MeshSession.open(connection)
        var descriptions: [Latentmesh_V1_ServiceDescription] = []
        for name in service.map({ [$0] }) ?? ServiceCatalog.names {
            let a = try await session.client.call("\(name).describe", Latentmesh_V1_DescribeRequest(),
                                                  as: Latentmesh_V1_ServiceDescription.self, timeout: .seconds(15))
            descriptions.append(a.response)
        }
        // Every replica, not only the one the work queue picked (a roll call on the events exchange).
        let everyReplica = try await session.client.rollCall(service: service)
        await session.close()
        func replicas(_ s: String) -> [Latentmesh_V1_ServiceDescription] { everyReplica.filter { $0.service == s } }
        if json {
            var opts = JSONEncodingOptions()
            opts.alwaysPrintInt64sAsNumbers = true
            opts.preserveProtoFieldNames = true
            let items: [Any] = try descriptions.map { d in
                var obj = try JSONSerialization.jsonObject(with: try d.jsonUTF8Data(options: opts)) as? [String: Any] ?? [:]
                obj["replicas"] = replicas(d.service).map { ["worker": $0.worker, "version": $0.version, "git_commit": $0.gitCommit] }
                return obj
            }
            printJSON(service == nil ? items as Any : items[0])
            return
        }
        for d in descriptions {
            print("\(d.service)  v\(d.version)  commit \(d.gitCommit.prefix(12))  worker \(d.worker)  [\(d.transport), \(d.store)]")
            let r = replicas(d.service)
            print("  replicas (\(r.count)): " + r.map { $0.worker + ($0.gitCommit == d.gitCommit ? "" : " @\($0.gitCommit.prefix(12))") }.joined(separator: ", "))
            if let s = d.config["summary"] { print("  \(s)") }
            for m in d.methods {
                print("  " + pad(m.routingKey, 26) + pad(m.requestType, 40) + "-> " + m.responseType)
            }
            let cfg = d.config.filter { $0.key != "summary" }.sorted { $0.key < $1.key }
            print("  config: " + cfg.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }
}
