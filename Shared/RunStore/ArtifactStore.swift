import Foundation

/// Content-addressed files (checkpoints, images, datasets) on a shared volume, with a row per
/// file in the run store's `artifacts` table.
///
/// A file with SHA-256 `abcdef…` lives at `root/ab/cdef…` (2-hex folder, 62-hex name). Writes
/// go to `root/tmp/` first and are renamed into place, so readers never see partial files;
/// storing the same bytes twice keeps one file. Reads re-hash and throw on mismatch.
public final class ArtifactStore: @unchecked Sendable {
    public let root: URL
    public let store: RunStore
    private let fileManager = FileManager.default
    private static let chunkSize = 1 << 20

    public init(root: URL, store: RunStore) throws {
        self.root = root
        self.store = store
        do {
            try fileManager.createDirectory(at: root.appendingPathComponent("tmp"),
                                            withIntermediateDirectories: true)
        } catch {
            throw RunStoreError.io("cannot create artifact root \(root.path): \(error.localizedDescription)")
        }
    }

    /// Path of a digest relative to the root: `ab/cdef…`.
    public static func relativePath(sha256: String) throws -> String {
        try ArtifactRecord.validateDigest(sha256)
        return "\(sha256.prefix(2))/\(sha256.dropFirst(2))"
    }

    /// Absolute location of a digest's file (whether or not it exists).
    public func url(sha256: String) throws -> URL {
        root.appendingPathComponent(try Self.relativePath(sha256: sha256))
    }

    /// Stores `data`, records it, and returns its record (the existing one if already stored).
    @discardableResult
    public func put(_ data: Data, mediaType: String, runID: String? = nil) throws -> ArtifactRecord {
        let digest = SHA256.hex(data)
        let destination = try url(sha256: digest)
        if !hasFile(destination, size: Int64(data.count)) {
            let temp = tempURL()
            do {
                try data.write(to: temp)
            } catch {
                throw RunStoreError.io("cannot write \(temp.path): \(error.localizedDescription)")
            }
            try moveIntoPlace(temp, destination)
        }
        return try record(digest: digest, size: Int64(data.count), mediaType: mediaType, runID: runID)
    }

    /// Stores a copy of the file at `source` (hashed while copying, in 1 MiB chunks).
    @discardableResult
    public func put(fileAt source: URL, mediaType: String, runID: String? = nil) throws -> ArtifactRecord {
        guard let input = InputStream(url: source) else {
            throw RunStoreError.io("cannot open \(source.path)")
        }
        let temp = tempURL()
        guard let output = OutputStream(url: temp, append: false) else {
            throw RunStoreError.io("cannot create \(temp.path)")
        }
        input.open(); output.open()
        defer { input.close(); output.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        do {
            while true {
                let n = input.read(&buffer, maxLength: buffer.count)
                if n < 0 {
                    throw RunStoreError.io("cannot read \(source.path): \(input.streamError.map { "\($0)" } ?? "unknown")")
                }
                if n == 0 { break }
                hasher.update(buffer[0..<n])
                size += Int64(n)
                var written = 0
                while written < n {
                    let w = buffer.withUnsafeBufferPointer { output.write($0.baseAddress! + written, maxLength: n - written) }
                    if w <= 0 { throw RunStoreError.io("cannot write \(temp.path)") }
                    written += w
                }
            }
        } catch {
            try? fileManager.removeItem(at: temp)
            throw error
        }
        output.close()
        let digest = SHA256.hexString(hasher.finalize())
        let destination = try url(sha256: digest)
        if hasFile(destination, size: size) {
            try? fileManager.removeItem(at: temp)
        } else {
            try moveIntoPlace(temp, destination)
        }
        return try record(digest: digest, size: size, mediaType: mediaType, runID: runID)
    }

    /// Reads an artifact's bytes and checks they still hash to `sha256`.
    public func read(sha256: String) throws -> Data {
        let location = try url(sha256: sha256)
        guard let data = fileManager.contents(atPath: location.path) else {
            throw RunStoreError.artifactNotFound(sha256: sha256)
        }
        let actual = SHA256.hex(data)
        guard actual == sha256 else { throw RunStoreError.artifactCorrupted(sha256: sha256, actual: actual) }
        return data
    }

    /// Re-hashes the stored file in chunks; throws `artifactCorrupted` or `artifactNotFound`.
    public func verify(sha256: String) throws {
        let location = try url(sha256: sha256)
        guard let input = InputStream(url: location), fileManager.fileExists(atPath: location.path) else {
            throw RunStoreError.artifactNotFound(sha256: sha256)
        }
        input.open()
        defer { input.close() }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        while true {
            let n = input.read(&buffer, maxLength: buffer.count)
            if n < 0 { throw RunStoreError.io("cannot read \(location.path)") }
            if n == 0 { break }
            hasher.update(buffer[0..<n])
        }
        let actual = SHA256.hexString(hasher.finalize())
        guard actual == sha256 else { throw RunStoreError.artifactCorrupted(sha256: sha256, actual: actual) }
    }

    public func contains(sha256: String) -> Bool {
        guard let location = try? url(sha256: sha256) else { return false }
        return fileManager.fileExists(atPath: location.path)
    }

    // MARK: - Private

    /// Whether a stored file exists with the expected size (a truncated file gets replaced).
    private func hasFile(_ location: URL, size: Int64) -> Bool {
        guard let attributes = try? fileManager.attributesOfItem(atPath: location.path),
              let stored = (attributes[.size] as? NSNumber)?.int64Value else { return false }
        return stored == size
    }

    private func tempURL() -> URL {
        root.appendingPathComponent("tmp").appendingPathComponent("\(UUID().uuidString).part")
    }

    /// Renames `temp` to `destination`; if another writer got there first, keeps theirs.
    private func moveIntoPlace(_ temp: URL, _ destination: URL) throws {
        do {
            try fileManager.createDirectory(at: destination.deletingLastPathComponent(),
                                            withIntermediateDirectories: true)
            if rename(temp.path, destination.path) != 0 {
                let code = errno
                try? fileManager.removeItem(at: temp)
                if fileManager.fileExists(atPath: destination.path) { return }
                throw RunStoreError.io("cannot rename into \(destination.path): \(String(cString: strerror(code)))")
            }
        } catch let error as RunStoreError {
            throw error
        } catch {
            try? fileManager.removeItem(at: temp)
            throw RunStoreError.io("cannot create \(destination.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
    }

    private func record(digest: String, size: Int64, mediaType: String, runID: String?) throws -> ArtifactRecord {
        let candidate = ArtifactRecord(sha256: digest, size: size, path: try Self.relativePath(sha256: digest),
                                       mediaType: mediaType, runID: runID)
        try store.recordArtifact(candidate)
        return try store.artifact(sha256: digest) ?? candidate
    }
}
