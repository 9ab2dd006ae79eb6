import Foundation
import KubeProxyModel

/// The standalone source: Kubernetes objects read from manifest files, re-read when they change.
public struct ManifestSource: ManifestProvider {
    public let paths: [String]

    public init(paths: [String]) { self.paths = paths }

    public var description: String { paths.joined(separator: ",") }

    /// A cheap fingerprint of the files (size and modification time); it changes when a file does.
    public func fingerprint() -> [String] {
        paths.map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            return "\(path):\(size):\(mtime)"
        }
    }

    /// Reads every file.
    public func load() throws -> Manifests { try Manifests.load(paths: paths) }
}
