import KubeProxyModel

/// The dummy interface IPVS mode binds Service addresses to (`kube-ipvs0`), through `ip`. It is
/// never set up: the kernel installs the `local` route of an address on a down interface too, which
/// is all IPVS needs to see the packets.
public struct DummyInterface: Sendable {
    public static let defaultName = "kube-ipvs0"
    public let name: String
    let runner: any CommandRunner

    public init(name: String = DummyInterface.defaultName, runner: any CommandRunner) {
        self.name = name
        self.runner = runner
    }

    /// Whether the interface exists.
    public func exists() async -> Bool {
        (try? await runner.run("ip", ["link", "show", "dev", name]))?.succeeded ?? false
    }

    /// Creates the interface unless it exists.
    public func ensure() async throws {
        if await exists() { return }
        let result = try await runner.run("ip", ["link", "add", name, "type", "dummy"])
        guard result.succeeded || result.stderr.contains("File exists") else {
            throw DummyInterfaceError(message: "ip link add \(name) type dummy: \(result.stderr.trimmed())")
        }
    }

    /// The addresses on the interface.
    public func addresses() async throws -> Set<IPAddress> {
        let result = try await runner.run("ip", ["-o", "address", "show", "dev", name])
        guard result.succeeded else { throw DummyInterfaceError(message: "ip address show dev \(name): \(result.stderr.trimmed())") }
        return Self.parseAddresses(result.stdout)
    }

    /// `ip -o address show` lines -> addresses (`inet 198.18.10.10/32 ...`).
    static func parseAddresses(_ text: String) -> Set<IPAddress> {
        var result: Set<IPAddress> = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let i = words.firstIndex(where: { $0 == "inet" || $0 == "inet6" }), i + 1 < words.count,
                  let ip = IPAddress(sloppy: String(words[i + 1].split(separator: "/")[0])) else { continue }
            result.insert(ip)
        }
        return result
    }

    /// Adds and removes host addresses (/32, /128) in one `ip -batch`.
    public func update(add: [IPAddress], remove: [IPAddress]) async throws {
        guard !add.isEmpty || !remove.isEmpty else { return }
        func prefix(_ ip: IPAddress) -> Int { ip.family == .ipv4 ? 32 : 128 }
        let lines = add.sorted().map { "address add \($0)/\(prefix($0)) dev \(name)" } + remove.sorted().map { "address del \($0)/\(prefix($0)) dev \(name)" }
        let result = try await runner.run("ip", ["-force", "-batch", "-"], stdin: lines.joined(separator: "\n") + "\n")
        guard result.succeeded else { throw DummyInterfaceError(message: "ip -batch on \(name): \(result.stderr.trimmed())") }
    }

    /// Deletes the interface (cleanup); false when it did not exist.
    public func delete() async throws -> Bool {
        guard await exists() else { return false }
        let result = try await runner.run("ip", ["link", "del", name])
        guard result.succeeded else { throw DummyInterfaceError(message: "ip link del \(name): \(result.stderr.trimmed())") }
        return true
    }
}

/// An `ip` command on the dummy interface that failed.
public struct DummyInterfaceError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
