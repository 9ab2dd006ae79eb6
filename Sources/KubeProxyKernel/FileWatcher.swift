import Foundation
import Glibc
import Synchronization

/// Follows files with inotify and calls `onChange` whenever one of them may have changed: written,
/// replaced by a rename, deleted, or re-pointed by a symbolic link swap (a ConfigMap's `..data`).
///
/// It watches the directory of each path and of what each path resolves to now (re-resolved after
/// every event), so an atomic rename and a link swap are seen at once. Events are not filtered by
/// name: the caller compares a cheap fingerprint. Its own thread blocks in `poll`, never a task of
/// Swift's cooperative pool; ``stop()`` (or deinit) ends it without waiting for it, and the thread
/// closes its descriptors as it leaves.
public final class FileWatcher: Sendable {
    public let paths: [String]
    private let inotify: Int32
    /// The write end of a pipe the thread polls: ``stop()`` writes to it and closes it.
    private let wake: Int32
    private let stopped = StopFlag()

    /// Directory events that can change what a path reads.
    static let mask = UInt32(IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

    /// - Throws: ``FileWatcherError`` when inotify cannot be opened.
    public init(paths: [String], onChange: @escaping @Sendable () -> Void) throws {
        self.paths = paths
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard inotify >= 0 else { throw FileWatcherError(code: .cannotOpen, detail: "inotify_init1: errno \(errno)") }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { close(inotify); throw FileWatcherError(code: .cannotOpen, detail: "pipe: errno \(errno)") }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        wake = pipeEnds[1]
        addWatches()
        let (inotify, wake, stopped) = (inotify, pipeEnds[0], stopped)
        let worker = Thread { [weak self] in
            defer { close(inotify); close(wake) }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
                if poll(&fds, 2, -1) < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if fds[1].revents != 0 { return }
                guard fds[0].revents != 0 else { continue }
                while read(inotify, &buffer, buffer.count) > 0 {}   // drain; the events' details do not matter
                if stopped.value.load(ordering: .acquiring) { return }
                self?.addWatches()
                onChange()
            }
        }
        worker.name = "skp-file-watcher"
        worker.start()
    }

    /// Watches the directories of the paths and of their current targets (idempotent per directory).
    private func addWatches() {
        var directories = Set<String>()
        for path in paths {
            directories.insert((path as NSString).deletingLastPathComponent)
            if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                let target = resolved.hasPrefix("/") ? resolved : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(resolved)
                directories.insert((target as NSString).deletingLastPathComponent)
            }
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            directories.insert((real as NSString).deletingLastPathComponent)
        }
        for directory in directories {
            _ = inotify_add_watch(inotify, directory.isEmpty ? "." : directory, Self.mask)
        }
    }

    /// Ends the watching thread (at once, without waiting for it): no event after this call
    /// reaches `onChange`.
    public func stop() {
        guard !stopped.value.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt8 = 1
        _ = write(wake, &one, 1)
        close(wake)
    }

    deinit { stop() }
}

/// Whether ``FileWatcher/stop()`` was called, shared with its thread.
final class StopFlag: Sendable {
    let value = Atomic(false)
}

/// Why a ``FileWatcher`` could not start.
public struct FileWatcherError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable { case cannotOpen }
    public var code: Code
    public var detail: String
    public var description: String { "file watcher: \(code.rawValue): \(detail)" }
}
