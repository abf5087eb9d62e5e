import CRabbitMQ
import Foundation

/// A small AMQP field table (string and integer values) built for one rabbitmq-c call.
struct AMQPTable {
    enum Value { case string(String), int(Int32), long(Int64) }
    var entries: [(String, Value)] = []

    /// Arguments of a mesh work queue: quorum, delivery limit, dead-letter exchange.
    static var workQueueArguments: AMQPTable {
        AMQPTable(entries: [
            ("x-queue-type", .string("quorum")),
            ("x-delivery-limit", .long(Int64(MeshTopology.deliveryLimit))),
            ("x-dead-letter-exchange", .string(MeshTopology.deadLetterExchange)),
        ])
    }

    /// Calls `body` with a C table whose memory lives for the duration of the call.
    func withTable<R>(_ body: (amqp_table_t) throws -> R) rethrows -> R {
        if entries.isEmpty { return try body(amqp_empty_table) }
        var cstrings: [UnsafeMutablePointer<CChar>] = []
        defer { cstrings.forEach { free($0) } }
        func bytes(_ s: String) -> amqp_bytes_t {
            let p = strdup(s)!
            cstrings.append(p)
            return amqp_bytes_t(len: strlen(p), bytes: UnsafeMutableRawPointer(p))
        }
        var c = [amqp_table_entry_t](repeating: amqp_table_entry_t(), count: entries.count)
        for (i, (key, value)) in entries.enumerated() {
            c[i].key = bytes(key)
            switch value {
            case .string(let s):
                c[i].value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                c[i].value.value.bytes = bytes(s)
            case .int(let v):
                c[i].value.kind = UInt8(AMQP_FIELD_KIND_I32.rawValue)
                c[i].value.value.i32 = v
            case .long(let v):
                c[i].value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                c[i].value.value.i64 = v
            }
        }
        return try c.withUnsafeMutableBufferPointer { buf in
            try body(amqp_table_t(num_entries: Int32(buf.count), entries: buf.baseAddress))
        }
    }

    /// Reads an integer-valued field of any width; nil when absent or not an integer.
    static func integer(_ v: amqp_field_value_t) -> Int64? {
        switch UInt32(v.kind) {
        case AMQP_FIELD_KIND_I8.rawValue: return Int64(v.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: return Int64(v.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: return Int64(v.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: return Int64(v.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: return Int64(v.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: return Int64(v.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: return v.value.i64
        case AMQP_FIELD_KIND_U64.rawValue, AMQP_FIELD_KIND_TIMESTAMP.rawValue: return Int64(truncatingIfNeeded: v.value.u64)
        default: return nil
        }
    }

    /// Renders a field value as text (strings verbatim, numbers in decimal); nil for tables/arrays.
    static func text(_ v: amqp_field_value_t) -> String? {
        switch UInt32(v.kind) {
        case AMQP_FIELD_KIND_UTF8.rawValue, AMQP_FIELD_KIND_BYTES.rawValue: return AMQPSession.string(v.value.bytes)
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return v.value.boolean != 0 ? "true" : "false"
        case AMQP_FIELD_KIND_F32.rawValue: return String(v.value.f32)
        case AMQP_FIELD_KIND_F64.rawValue: return String(v.value.f64)
        default: return integer(v).map(String.init)
        }
    }
}

/// Internal header carrying the publish sequence number of a mandatory publish (to match basic.return).
let publishSequenceHeader = "x-lm-seq"
/// Quorum queue header counting earlier deliveries.
let deliveryCountHeader = "x-delivery-count"

extension MessageProperties {
    /// Calls `body` with C basic properties whose memory lives for the duration of the call.
    func withBasicProperties<R>(extraHeaders: [String: String] = [:],
                                _ body: (UnsafePointer<amqp_basic_properties_t>) throws -> R) rethrows -> R {
        var cstrings: [UnsafeMutablePointer<CChar>] = []
        defer { cstrings.forEach { free($0) } }
        func bytes(_ s: String) -> amqp_bytes_t {
            let p = strdup(s)!
            cstrings.append(p)
            return amqp_bytes_t(len: strlen(p), bytes: UnsafeMutableRawPointer(p))
        }
        var p = amqp_basic_properties_t()
        var flags: UInt32 = UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        p.delivery_mode = persistent ? 2 : 1
        if let v = correlationID { flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG); p.correlation_id = bytes(v) }
        if let v = replyTo { flags |= UInt32(AMQP_BASIC_REPLY_TO_FLAG); p.reply_to = bytes(v) }
        if let v = messageID { flags |= UInt32(AMQP_BASIC_MESSAGE_ID_FLAG); p.message_id = bytes(v) }
        if let v = type { flags |= UInt32(AMQP_BASIC_TYPE_FLAG); p.type = bytes(v) }
        if let v = timestampMs {
            // AMQP timestamps are seconds; the milliseconds travel in a header as well.
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG); p.timestamp = UInt64(max(0, v / 1000))
        }
        var all = headers.merging(extraHeaders) { _, new in new }
        if let v = timestampMs { all["x-lm-ts-ms"] = String(v) }
        let table = AMQPTable(entries: all.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        return try table.withTable { t in
            if t.num_entries > 0 { flags |= UInt32(AMQP_BASIC_HEADERS_FLAG); p.headers = t }
            p._flags = flags
            return try body(&p)
        }
    }

    /// Decodes C basic properties; strips internal headers and returns x-delivery-count separately.
    static func decode(_ p: amqp_basic_properties_t) -> (properties: MessageProperties, deliveryCount: Int) {
        var m = MessageProperties()
        let flags = UInt32(p._flags)
        if flags & UInt32(AMQP_BASIC_CORRELATION_ID_FLAG) != 0 { m.correlationID = AMQPSession.string(p.correlation_id) }
        if flags & UInt32(AMQP_BASIC_REPLY_TO_FLAG) != 0 { m.replyTo = AMQPSession.string(p.reply_to) }
        if flags & UInt32(AMQP_BASIC_MESSAGE_ID_FLAG) != 0 { m.messageID = AMQPSession.string(p.message_id) }
        if flags & UInt32(AMQP_BASIC_TYPE_FLAG) != 0 { m.type = AMQPSession.string(p.type) }
        if flags & UInt32(AMQP_BASIC_TIMESTAMP_FLAG) != 0 { m.timestampMs = Int64(p.timestamp) * 1000 }
        m.persistent = flags & UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 && p.delivery_mode == 2
        var count = 0
        if flags & UInt32(AMQP_BASIC_HEADERS_FLAG) != 0, let entries = p.headers.entries {
            for i in 0..<Int(p.headers.num_entries) {
                let key = AMQPSession.string(entries[i].key)
                let value = entries[i].value
                switch key {
                case deliveryCountHeader: count = Int(AMQPTable.integer(value) ?? 0)
                case publishSequenceHeader: continue
                case "x-lm-ts-ms": if let ms = AMQPTable.text(value).flatMap({ Int64($0) }) { m.timestampMs = ms }
                default: if let text = AMQPTable.text(value) { m.headers[key] = text }
                }
            }
        }
        return (m, count)
    }
}
