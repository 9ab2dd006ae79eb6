/// What a finished command returned.
public struct CommandResult: Hashable, Sendable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String

    public init(exitCode: Int32, stdout: String = "", stderr: String = "") {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Whether the command exited 0.
    public var succeeded: Bool { exitCode == 0 }
}

/// Runs external programs; the seam where tests put a recording fake.
public protocol CommandRunner: Sendable {
    /// Runs `executable` (looked up in `PATH`) with `arguments`, feeding `stdin`, and collects its output.
    /// - Throws: ``CommandError`` when the program cannot be started at all; a non-zero exit is a result.
    func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs a command without standard input.
    public func run(_ executable: String, _ arguments: [String]) async throws -> CommandResult {
        try await run(executable, arguments, stdin: nil)
    }
}

/// A program that could not be run, or did not finish in time.
public struct CommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The program could not be started (not found, not executable, output over the limit).
        public static let cannotStart = Code(name: "cannotStart")
        /// The program ran past the runner's timeout and was killed.
        public static let timedOut = Code(name: "timedOut")
        public var description: String { name }
    }
    public var executable: String
    public var detail: String
    public var code: Code
    public init(executable: String, detail: String, code: Code = .cannotStart) {
        self.executable = executable
        self.detail = detail
        self.code = code
    }
    public var description: String {
        code == .timedOut ? "\(executable) timed out: \(detail)" : "cannot run \(executable): \(detail)"
    }
}
