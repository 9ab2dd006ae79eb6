import Foundation
import KubeProxyKernel
import Synchronization
import Testing

/// Blocking calls leave Swift's cooperative pool free: more of them than the pool has threads run
/// at once, and a task on the pool keeps running meanwhile.
@Suite("BlockingIO: blocking calls off the cooperative pool")
struct BlockingIOTests {
    final class Counters: Sendable {
        let running = Atomic(0), mostAtOnce = Atomic(0), ticks = Atomic(0), done = Atomic(false)
    }
    struct Refused: Error {}

    @Test("six 300 ms blocking calls run side by side while a task on the pool keeps ticking")
    func offThePool() async throws {
        let c = Counters()
        let ticker = Task {
            while !c.done.load(ordering: .acquiring) {
                try? await Task.sleep(for: .milliseconds(10))
                c.ticks.add(1, ordering: .relaxed)
            }
        }
        let pool = ProcessInfo.processInfo.activeProcessorCount
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<max(6, pool + 2) {
                group.addTask {
                    try await BlockingIO.run {
                        let now = c.running.add(1, ordering: .acquiringAndReleasing).newValue
                        _ = c.mostAtOnce.max(now, ordering: .relaxed)
                        usleep(300_000)   // a netlink recv waiting for the kernel
                        c.running.subtract(1, ordering: .acquiringAndReleasing)
                        return i
                    }
                }
            }
            for try await _ in group {}
        }
        c.done.store(true, ordering: .releasing)
        await ticker.value
        #expect(c.mostAtOnce.load(ordering: .relaxed) > pool, "more blocking calls at once than the pool has threads")
        #expect(c.ticks.load(ordering: .relaxed) >= 5, "the pool was not starved")
    }

    @Test("an error thrown on the thread reaches the caller")
    func errors() async {
        await #expect(throws: Refused.self) { try await BlockingIO.run { throw Refused() } }
    }
}
