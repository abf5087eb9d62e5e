// decode-svc: wires configuration, transport, store and the decode handlers (all logic in libraries).
import MeshKit
import ServiceHandlers

await ServiceMain.run(service: "decode") { config in try ServiceCatalog.definition("decode", config: config) }
