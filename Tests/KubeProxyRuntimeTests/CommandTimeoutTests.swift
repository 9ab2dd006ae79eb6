import KubeProxyKernel
import Testing

/// Every external command is bounded: one still running at the timeout is killed and reported.
@Suite("External commands time out")
struct CommandTimeoutTests {
    @Test("a hanging command is killed at the timeout, with a timedOut error naming it")
    func hanging() async throws {
        let runner = SubprocessCommandRunner(timeout: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        await #expect { _ = try await runner.run("sleep", ["30"]) } throws: { error in
            (error as? CommandError)?.code == .timedOut && "\(error)".hasPrefix("sleep timed out")
        }
        #expect(clock.now - start < .seconds(5), "killed, not waited for")
    }

    @Test("a command that finishes in time returns its output and status")
    func inTime() async throws {
        let runner = SubprocessCommandRunner(timeout: .seconds(10))
        let result = try await runner.run("sh", ["-c", "cat; echo err >&2; exit 3"], stdin: "in")
        #expect(result.exitCode == 3 && result.stdout == "in" && result.stderr == "err\n")
    }
}
