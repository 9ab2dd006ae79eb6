import Foundation
/// One Kubernetes object read from a manifest file, by its `kind`.
public enum ManifestObject: Hashable, Sendable {
    case service(Service)
    case endpointSlice(EndpointSlice)
    case node(Node)
    case serviceCIDR(ServiceCIDR)
    case configuration(KubeProxyConfiguration)
}

/// A manifest document that could not be used, with the reason; the rest of the file is unaffected.
public struct ManifestProblem: Hashable, Sendable, CustomStringConvertible {
    /// Where the document was: `file#index`.
    public var location: String
    /// `Kind namespace/name` when it could be read.
    public var object: String
    /// What was wrong, naming the field where possible.
    public var reason: String

    public var description: String { "\(location): \(object): \(reason)" }
}

/// One decoded document: its objects (a `List` yields several) and the problems met.
struct ManifestDocument: Decodable {
    /// The document's `kind`, when it has one (a Kubernetes object, or a List of them).
    var kind: String?
    var objects: [ManifestObject] = []
    var problems: [(object: String, reason: String)] = []

    private enum Keys: String, CodingKey { case kind, metadata, items }
    private struct Meta: Decodable { var name: String?; var namespace: String? }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let kind = (try? container.decodeIfPresent(String.self, forKey: .kind)) ?? nil
        self.kind = kind
        let meta = (try? container.decodeIfPresent(Meta.self, forKey: .metadata)) ?? nil
        let label = "\(kind ?? "<no kind>") \(meta?.namespace.map { "\($0)/" } ?? "")\(meta?.name ?? "")"
        do {
            switch kind {
            case "Service": objects = [.service(try Service(from: decoder))]
            case "EndpointSlice": objects = [.endpointSlice(try EndpointSlice(from: decoder))]
            case "Node": objects = [.node(try Node(from: decoder))]
            case "ServiceCIDR": objects = [.serviceCIDR(try ServiceCIDR(from: decoder))]
            case "KubeProxyConfiguration": objects = [.configuration(try KubeProxyConfiguration(from: decoder))]
            case let k? where k.hasSuffix("List"):
                // Each item on its own: a null, a scalar or a bad object is skipped alone.
                let items = try container.decodeIfPresent([ListItem].self, forKey: .items) ?? []
                for (index, item) in items.enumerated() {
                    switch item {
                    case .document(let document):
                        objects += document.objects
                        problems += document.problems
                    case .unusable(let reason):
                        problems.append(("\(label.trimmingCharacters(in: .whitespaces)) items[\(index)]", reason))
                    }
                }
            default:
                // Other kinds (Deployments, ConfigMaps, ...) are not kube-proxy's business.
                break
            }
        } catch let error as DecodingError {
            problems.append((label, Self.describe(error)))
        }
    }

    /// One entry of a List's `items`: a document, or why it is not one.
    enum ListItem: Decodable {
        case document(ManifestDocument)
        case unusable(String)

        init(from decoder: any Decoder) throws {
            if (try? decoder.singleValueContainer().decodeNil()) == true {
                self = .unusable("null item")
                return
            }
            do { self = .document(try ManifestDocument(from: decoder)) } catch let error as DecodingError {
                self = .unusable(ManifestDocument.describe(error))
            }
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .replacingOccurrences(of: ".[", with: "[")
                .drop(while: { $0 == "." }).description
        }
        switch error {
        case .typeMismatch(let type, let ctx): return "field \(path(ctx.codingPath)): expected \(type)"
        case .valueNotFound(let type, let ctx): return "field \(path(ctx.codingPath)): missing \(type)"
        case .keyNotFound(let key, let ctx): return "field \(path(ctx.codingPath + [key])): required"
        case .dataCorrupted(let ctx): return "field \(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// Where a proxier's Kubernetes objects come from (manifest files, an API server): a cheap
/// fingerprint that changes whenever the objects may have, the objects themselves, and a call
/// whenever they may have changed.
public protocol ManifestProvider: Sendable {
    /// For logs: the files or the server.
    var description: String { get }
    func fingerprint() -> [String]
    /// Every object now (the whole picture).
    func load() throws -> Manifests
    /// The objects changed since the last call (every object, the first time): what the change
    /// trackers take. Sources of whole pictures diff them (``ManifestDiffer``).
    func changes() throws -> ManifestChanges
    /// Calls `onChange` (from any thread) whenever the objects may have changed, until the watch
    /// is cancelled.
    func watch(_ onChange: @escaping @Sendable () -> Void) throws -> any ManifestWatch
}

/// A running ``ManifestProvider/watch(_:)``.
public protocol ManifestWatch: Sendable {
    /// Stops the calls.
    func cancel()
}
