import Subprocess

/// Runs programs with swift-subprocess: stdout and stderr are drained together, so large
/// payloads cannot deadlock on a full pipe.
public struct SubprocessCommandRunner: CommandRunner {
    /// The most output collected from one command (iptables-save of a big ruleset is large).
    public var outputLimit: Int

    public init(outputLimit: Int = 512 * 1024 * 1024) {
        self.outputLimit = outputLimit
    }

    public func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
        do {
            let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
            if let stdin {
                result = try await Subprocess.run(.name(executable), arguments: Arguments(arguments),
                                                  input: .array(Array(stdin.utf8)),
                                                  output: .string(limit: outputLimit), error: .string(limit: 1 << 20))
            } else {
                result = try await Subprocess.run(.name(executable), arguments: Arguments(arguments),
                                                  output: .string(limit: outputLimit), error: .string(limit: 1 << 20))
            }
            let code: Int32
            switch result.terminationStatus {
            case .exited(let c): code = c
            case .signaled(let s): code = 128 + s
            }
            return CommandResult(exitCode: code, stdout: result.standardOutput, stderr: result.standardError)
        } catch {
            throw CommandError(executable: executable, detail: "\(error)")
        }
    }
}
