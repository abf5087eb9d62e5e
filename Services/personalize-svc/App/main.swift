// personalize-svc: wires configuration, transport, store and the personalize handlers (all logic in libraries).
import MeshKit
import ServiceHandlers

await ServiceMain.run(service: "personalize") { config in try ServiceCatalog.definition("personalize", config: config) }
