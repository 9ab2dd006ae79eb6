import Subprocess

/// Runs programs with swift-subprocess: stdout and stderr are drained together, so large
/// payloads cannot deadlock on a full pipe, and a program still running after ``timeout`` is
/// killed (a hanging `iptables-restore` must not stop every later sync).
public struct SubprocessCommandRunner: CommandRunner {
    /// The most output collected from one command (iptables-save of a big ruleset is large).
    public var outputLimit: Int
    /// How long one command may run before it is killed and ``CommandError/timedOut`` is thrown.
    public var timeout: Duration

    public init(outputLimit: Int = 512 * 1024 * 1024, timeout: Duration = .seconds(120)) {
        self.outputLimit = outputLimit
        self.timeout = timeout
    }

    public func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: CommandResult?.self) { group in
            group.addTask { try await runToEnd(executable, arguments, stdin: stdin) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() } // cancelling the run kills the program (swift-subprocess's teardown)
            guard let first = try await group.next(), let result = first else {
                throw CommandError(executable: executable, detail: "still running after \(timeout); killed", code: .timedOut)
            }
            return result
        }
    }

    private func runToEnd(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
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
        } catch let error as CancellationError {
            throw error
        } catch {
            throw CommandError(executable: executable, detail: "\(error)", code: .cannotStart)
        }
    }
}
