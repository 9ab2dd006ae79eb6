/// Runs `ipset`: the restore script of a sync, entry counts for the integrity check, and `destroy` for cleanup.
public struct IPSetCommands: Sendable {
    let runner: any CommandRunner

    public init(runner: any CommandRunner) {
        self.runner = runner
    }

    /// Feeds `script` to `ipset restore -exist`.
    /// - Throws: ``IPSetError`` with ipset's message (it names the failing line).
    public func restore(_ script: String) async throws {
        let result = try await runner.run("ipset", ["restore", "-exist"], stdin: script)
        guard result.succeeded else { throw IPSetError(code: .restoreFailed, message: result.stderr.trimmed()) }
    }

    /// How many entries each set holds (`ipset list -t`).
    public func entryCounts() async throws -> [String: Int] {
        let result = try await runner.run("ipset", ["list", "-t"])
        guard result.succeeded else { throw IPSetError(code: .listFailed, message: result.stderr.trimmed()) }
        var counts: [String: Int] = [:], name: String?
        for line in result.stdout.split(separator: "\n") {
            if line.hasPrefix("Name: ") { name = String(line.dropFirst("Name: ".count)) }
            if line.hasPrefix("Number of entries: "), let name { counts[name] = Int(line.dropFirst("Number of entries: ".count)) }
        }
        return counts
    }

    /// Destroys the sets in `names` that exist; returns those destroyed.
    public func destroy(_ names: [String]) async throws -> [String] {
        var destroyed: [String] = []
        for name in names {
            let result = try await runner.run("ipset", ["destroy", name])
            if result.succeeded { destroyed.append(name); continue }
            if result.stderr.contains("does not exist") { continue }
            throw IPSetError(code: .destroyFailed, message: "ipset destroy \(name): \(result.stderr.trimmed())")
        }
        return destroyed
    }
}

/// An `ipset` command that failed.
public struct IPSetError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let restoreFailed = Code(name: "restoreFailed")
        public static let destroyFailed = Code(name: "destroyFailed")
        public static let listFailed = Code(name: "listFailed")
        public var description: String { name }
    }
    public var code: Code
    public var message: String
    public var description: String { "ipset \(code): \(message)" }
}
