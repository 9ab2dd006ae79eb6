import KubeProxyModel

/// Runs the real `iptables`, `iptables-save` and `iptables-restore` (or the ip6tables ones) of one backend.
public struct IPTablesCommands: IPTablesInterface {
    public let family: IPFamily
    public let backend: IPTablesBackend
    let runner: any CommandRunner
    /// `-w 5 -W 100000` on iptables 1.6.2 and later, as upstream passes.
    let waitArgs: [String]

    public init(family: IPFamily, backend: IPTablesBackend, runner: any CommandRunner, waitArgs: [String] = ["-w", "5", "-W", "100000"]) {
        self.family = family
        self.backend = backend
        self.runner = runner
        self.waitArgs = waitArgs
    }

    var iptables: String { backend.binary("iptables", family: family) }

    public func restore(_ payload: String) async throws {
        let tool = backend.binary("iptables-restore", family: family)
        let result = try await runner.run(tool, waitArgs + ["--noflush", "--counters"], stdin: payload)
        guard result.succeeded else {
            throw IPTablesRestoreError(code: .restoreFailed, line: Self.failingLine(result.stderr), message: result.stderr.trimmed())
        }
    }

    public func save(table: String) async throws -> String {
        let result = try await runner.run(backend.binary("iptables-save", family: family), ["-t", table])
        guard result.succeeded else {
            throw IPTablesRestoreError(code: .commandFailed, line: nil, message: "iptables-save -t \(table): \(result.stderr.trimmed())")
        }
        return result.stdout
    }

    public func ensureChain(table: String, chain: String) async throws {
        if await chainExists(table: table, chain: chain) { return }
        let result = try await runner.run(iptables, waitArgs + ["-t", table, "-N", chain])
        if !result.succeeded && !result.stderr.contains("already exists") {
            throw IPTablesRestoreError(code: .commandFailed, line: nil, message: "-N \(chain): \(result.stderr.trimmed())")
        }
    }

    public func ensureRule(table: String, chain: String, args: [String]) async throws {
        let check = try await runner.run(iptables, waitArgs + ["-t", table, "-C", chain] + args)
        if check.succeeded { return }
        let insert = try await runner.run(iptables, waitArgs + ["-t", table, "-I", chain] + args)
        guard insert.succeeded else {
            throw IPTablesRestoreError(code: .commandFailed, line: nil, message: "-I \(chain) \(args.joined(separator: " ")): \(insert.stderr.trimmed())")
        }
    }

    public func deleteRule(table: String, chain: String, args: [String]) async throws {
        let check = try await runner.run(iptables, waitArgs + ["-t", table, "-C", chain] + args)
        guard check.succeeded else { return }
        _ = try await runner.run(iptables, waitArgs + ["-t", table, "-D", chain] + args)
    }

    public func chainExists(table: String, chain: String) async -> Bool {
        guard let r = try? await runner.run(iptables, waitArgs + ["-t", table, "-S", chain, "1"]) else { return false }
        return r.succeeded
    }

    /// The line number in messages such as `iptables-restore: line 12 failed`.
    static func failingLine(_ stderr: String) -> Int? {
        guard let range = stderr.range(of: "line ") else { return nil }
        return Int(stderr[range.upperBound...].prefix { $0.isNumber })
    }
}

extension String {
    func trimmed() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
