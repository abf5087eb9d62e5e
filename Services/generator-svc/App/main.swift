// generator-svc: wires configuration, transport, store and the generator handlers (all logic in libraries).
import MeshKit
import ServiceHandlers

await ServiceMain.run(service: "generator") { config in try ServiceCatalog.definition("generator", config: config) }
