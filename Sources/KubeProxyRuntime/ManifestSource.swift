import Foundation
import KubeProxyKernel
import KubeProxyModel
import Synchronization

/// The standalone source: Kubernetes objects read from manifest files, re-read when they change.
///
/// It cannot wipe a node by accident: a read is used only when it equals the read before it (a
/// file still being written is not), and an empty file, or one holding no Kubernetes object at
/// all, is ``ManifestNotReady``: the follower keeps the rules and tries again. A `kind: List` with
/// `items: []` is a deliberate "no objects".
public final class ManifestSource: ManifestProvider {
    public let paths: [String]
    /// The bytes of the last read: a read that differs is read again, and used only if both agree.
    private let lastRead = Mutex<[Data]?>(nil)
    /// The picture ``changes()`` last handed out.
    private let differ = ManifestDiffer()

    public init(paths: [String]) { self.paths = paths }

    public var description: String { paths.joined(separator: ",") }

    /// A cheap fingerprint of the files as they resolve now (symbolic links followed, so a
    /// ConfigMap-style `..data` swap shows): device, inode, size and modification time.
    public func fingerprint() -> [String] {
        paths.map { path in
            var info = stat()
            guard stat(path, &info) == 0 else { return "\(path):missing" }
            return "\(path):\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
    }

    /// Follows the files with inotify (``FileWatcher``): a write, a rename into place or a
    /// ConfigMap's link swap calls `onChange` at once.
    public func watch(_ onChange: @escaping @Sendable () -> Void) throws -> any ManifestWatch {
        FileWatch(watcher: try FileWatcher(paths: paths, onChange: onChange))
    }

    struct FileWatch: ManifestWatch {
        let watcher: FileWatcher
        func cancel() { watcher.stop() }
    }

    /// What changed in the files since the last call (``ManifestDiffer``).
    /// - Throws: as ``load()``; nothing is taken then.
    public func changes() throws -> ManifestChanges { differ.changes(to: try load()) }

    /// Reads every file; decodes them when two consecutive reads agree.
    /// - Throws: ``ManifestNotReady`` (keep the rules, retry soon), or ``ManifestError``.
    public func load() throws -> Manifests {
        func read() throws -> [Data] {
            try paths.map { path in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ManifestError(code: .unreadable, source: path, detail: "cannot read file")
                }
                return data
            }
        }
        var contents = try read()
        if lastRead.withLock({ $0 != contents }) {
            let again = try read()
            lastRead.withLock { $0 = again }
            guard again == contents else { throw ManifestNotReady(source: description, reason: "still being written (two reads differ)") }
            contents = again
        }
        var manifests = Manifests()
        for (path, data) in zip(paths, contents) {
            let text = String(decoding: data, as: UTF8.self)
            if text.allSatisfy(\.isWhitespace) { throw ManifestNotReady(source: path, reason: "the file is empty") }
            let before = manifests.documentsWithKind
            try manifests.decode(text, source: path)
            if manifests.documentsWithKind == before {
                throw ManifestNotReady(source: path, reason: "the file holds no Kubernetes object (an empty List is written `kind: List` with `items: []`)")
            }
        }
        return manifests
    }
}

/// Manifest files that are not a usable picture of the cluster yet (empty, still being written,
/// no object at all): the rules stay as they are and the files are read again.
public struct ManifestNotReady: Error, Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var reason: String
    public var description: String { "\(source): not ready: \(reason)" }
}
