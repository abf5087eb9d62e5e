/// Integer options of a benchmark (`--name N`), each with its default; anything else is an
/// error naming the options there are.
struct BenchOptions {
    private var values: [String: Int]

    /// Parses `arguments` against `defaults` (e.g. ["--reps": 3]); a missing or non-integer value is an error.
    init(_ arguments: [String], defaults: [String: Int]) throws {
        values = defaults
        var i = 0
        let usage = defaults.keys.sorted().map { "\($0) N" }.joined(separator: " ")
        while i < arguments.count {
            let name = arguments[i]
            guard defaults[name] != nil else { throw ValidationFailureBench("unknown option \(name); use \(usage)") }
            guard i + 1 < arguments.count, let v = Int(arguments[i + 1]) else {
                throw ValidationFailureBench("\(name) needs an integer value")
            }
            values[name] = v
            i += 2
        }
    }

    subscript(_ name: String) -> Int { values[name] ?? 0 }
}
