import Foundation
import KubeProxyModel
import KubeProxyRuntime
import Testing

/// The manifest source never takes an empty, half-written or object-less file for the truth.
@Suite("Manifest files that cannot wipe a node")
struct ManifestSourceTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("skp-source-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static let service = """
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: ns}
    spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}
    """

    func write(_ text: String, to name: String = "cluster.yaml") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test("an empty file, whitespace or comments only, or no object at all is not ready", arguments: ["", "  \n", "# half\n", "just a string\n", "a: 1\n"])
    func notReady(text: String) throws {
        let source = ManifestSource(paths: [try write(text)])
        #expect(throws: ManifestNotReady.self) { try source.load() }
        // A deliberate "no objects" is an empty List.
        let empty = ManifestSource(paths: [try write("kind: List\nitems: []\n", to: "empty.yaml")])
        #expect(try empty.load().services.isEmpty)
    }

    @Test("one file not ready holds back all of them")
    func oneOfSeveral() throws {
        let source = ManifestSource(paths: [try write(Self.service, to: "a.yaml"), try write("", to: "b.yaml")])
        #expect(throws: ManifestNotReady.self) { try source.load() }
    }

    @Test("a read is used when it matches the read before it")
    func settled() throws {
        let path = try write(Self.service)
        let source = ManifestSource(paths: [path])
        #expect(try source.load().services.count == 1)
        try (Self.service + "\n---\n" + Self.service.replacingOccurrences(of: "web", with: "api")).write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try source.load().services.count == 2)
    }

    @Test("a ConfigMap-style symlink swap changes the fingerprint at once")
    func symlinkSwap() throws {
        let fm = FileManager.default
        let one = directory.appendingPathComponent("..2026_01"), two = directory.appendingPathComponent("..2026_02")
        try fm.createDirectory(at: one, withIntermediateDirectories: true)
        try fm.createDirectory(at: two, withIntermediateDirectories: true)
        try Self.service.write(to: one.appendingPathComponent("cluster.yaml"), atomically: false, encoding: .utf8)
        try Self.service.write(to: two.appendingPathComponent("cluster.yaml"), atomically: false, encoding: .utf8)
        let data = directory.appendingPathComponent("..data")
        try fm.createSymbolicLink(atPath: data.path, withDestinationPath: "..2026_01")
        let link = directory.appendingPathComponent("cluster.yaml").path
        try fm.createSymbolicLink(atPath: link, withDestinationPath: "..data/cluster.yaml")
        let source = ManifestSource(paths: [link])
        let before = source.fingerprint()
        // kubelet's swap: a new ..data link renamed over the old one.
        let next = directory.appendingPathComponent("..data_tmp")
        try fm.createSymbolicLink(atPath: next.path, withDestinationPath: "..2026_02")
        #expect(rename(next.path, data.path) == 0)
        #expect(source.fingerprint() != before)
    }

    /// Counts `onChange` calls and lets a test wait for the next one.
    final class Calls: Sendable {
        let signal = ChangeSignal()
        func wait(milliseconds: Int = 5000) async -> Bool {
            let clock = ContinuousClock()
            return await signal.wait(until: clock.now + .milliseconds(milliseconds), clock: clock)
        }
        /// Consumes the stragglers of the last change (a rename is several events).
        func settle() async { while await wait(milliseconds: 200) {} }
    }

    @Test("inotify: a rename into place, an in-place write and a ConfigMap link swap each call onChange at once; stop ends the calls")
    func watch() async throws {
        let fm = FileManager.default
        let one = directory.appendingPathComponent("..2026_01"), two = directory.appendingPathComponent("..2026_02")
        for dir in [one, two] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            try Self.service.write(to: dir.appendingPathComponent("cluster.yaml"), atomically: false, encoding: .utf8)
        }
        let data = directory.appendingPathComponent("..data")
        try fm.createSymbolicLink(atPath: data.path, withDestinationPath: "..2026_01")
        let link = directory.appendingPathComponent("cluster.yaml").path
        try fm.createSymbolicLink(atPath: link, withDestinationPath: "..data/cluster.yaml")
        let plain = try write(Self.service, to: "plain.yaml")
        let calls = Calls()
        let watch = try ManifestSource(paths: [link, plain]).watch { calls.signal.notify() }
        #expect(await calls.wait(milliseconds: 300) == false, "nothing changed: no call")

        try Self.service.write(toFile: plain, atomically: true, encoding: .utf8)   // a rename into place
        #expect(await calls.wait(), "rename")
        await calls.settle()
        try (Self.service + "\n").write(toFile: plain, atomically: false, encoding: .utf8)
        #expect(await calls.wait(), "in-place write")
        await calls.settle()
        let next = directory.appendingPathComponent("..data_tmp")
        try fm.createSymbolicLink(atPath: next.path, withDestinationPath: "..2026_02")
        #expect(rename(next.path, data.path) == 0)
        #expect(await calls.wait(), "link swap")
        await calls.settle()
        // The target's own directory is followed too: a write inside the current ..data target.
        try (Self.service + "\n").write(to: two.appendingPathComponent("cluster.yaml"), atomically: false, encoding: .utf8)
        #expect(await calls.wait(), "write inside the link's target")

        await calls.settle()
        watch.cancel()
        try Self.service.write(toFile: plain, atomically: true, encoding: .utf8)
        #expect(await calls.wait(milliseconds: 300) == false, "after cancel: no call")
    }
}
