import KubeProxyKernel
import Synchronization

/// A ``CommandRunner`` that records each command's argv and stdin and answers from a script.
public final class RecordingCommandRunner: CommandRunner {
    /// One recorded call.
    public struct Call: Hashable, Sendable {
        public var executable: String
        public var arguments: [String]
        public var stdin: String?
    }

    private let calls = Mutex<[Call]>([])
    private let respond: @Sendable (Call) -> CommandResult

    /// - Parameter respond: the result of each call (default: exit 0, no output).
    public init(respond: @escaping @Sendable (Call) -> CommandResult = { _ in CommandResult(exitCode: 0) }) {
        self.respond = respond
    }

    /// The calls made so far, in order.
    public var recorded: [Call] { calls.withLock { $0 } }

    public func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
        let call = Call(executable: executable, arguments: arguments, stdin: stdin)
        calls.withLock { $0.append(call) }
        return respond(call)
    }
}
