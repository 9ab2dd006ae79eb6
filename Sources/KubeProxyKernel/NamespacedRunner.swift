/// Runs every command inside network namespace `namespace` (`ip netns exec NS …`).
public struct NamespacedRunner: CommandRunner {
    public let namespace: String
    let base: any CommandRunner

    public init(namespace: String, base: any CommandRunner) {
        self.namespace = namespace
        self.base = base
    }

    public func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
        try await base.run("ip", ["netns", "exec", namespace, executable] + arguments, stdin: stdin)
    }
}
