import Foundation
import Yams

/// The Kubernetes objects of a set of manifest files, with the documents that had to be skipped.
public struct Manifests: Sendable {
    public var services: [Service] = []
    public var endpointSlices: [EndpointSlice] = []
    public var nodes: [Node] = []
    public var serviceCIDRs: [ServiceCIDR] = []
    public var configurations: [KubeProxyConfiguration] = []
    /// Documents that were skipped, each naming its object and field.
    public var problems: [ManifestProblem] = []
    /// How many documents had a `kind` (an object of any kind, or a List, even an empty one):
    /// none means the text held no Kubernetes object at all.
    public var documentsWithKind = 0

    public init() {}

    /// Appends one object.
    public mutating func append(_ object: ManifestObject) {
        switch object {
        case .service(let s): services.append(s)
        case .endpointSlice(let e): endpointSlices.append(e)
        case .node(let n): nodes.append(n)
        case .serviceCIDR(let c): serviceCIDRs.append(c)
        case .configuration(let c): configurations.append(c)
        }
    }

    /// Decodes YAML (several `---` documents allowed) or JSON text; `kind: List` is flattened.
    /// A document that does not decode is recorded in ``problems`` and skipped.
    /// - Throws: ``ManifestError`` when the text is not YAML or JSON at all.
    public mutating func decode(_ text: String, source: String) throws {
        let trimmed = text.trimmingSpaces()
        if trimmed.first == "{" || trimmed.first == "[" {
            try decodeJSON(Data(text.utf8), source: source)
            return
        }
        let decoder = YAMLDecoder()
        var nodes: [Yams.Node] = []
        do {
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { nodes.append(node) }
        } catch {
            throw ManifestError(code: .syntax, source: source, detail: "\(error)")
        }
        for (index, node) in nodes.enumerated() {
            guard case .mapping = node else { continue }
            let location = "\(source)#\(index + 1)"
            do {
                let document = try decoder.decode(ManifestDocument.self, from: node)
                record(document, location: location)
            } catch {
                problems.append(ManifestProblem(location: location, object: "<document>", reason: "\(error)"))
            }
        }
    }

    private mutating func decodeJSON(_ data: Data, source: String) throws {
        let decoder = JSONDecoder()
        do {
            if data.first(where: { $0 > 32 }) == UInt8(ascii: "[") {
                for (index, document) in try decoder.decode([ManifestDocument].self, from: data).enumerated() {
                    record(document, location: "\(source)#\(index + 1)")
                }
            } else {
                record(try decoder.decode(ManifestDocument.self, from: data), location: source)
            }
        } catch {
            throw ManifestError(code: .syntax, source: source, detail: "\(error)")
        }
    }

    private mutating func record(_ document: ManifestDocument, location: String) {
        if document.kind != nil { documentsWithKind += 1 }
        document.objects.forEach { append($0) }
        for problem in document.problems {
            problems.append(ManifestProblem(location: location, object: problem.object, reason: problem.reason))
        }
    }

    /// Reads and decodes the given files in order.
    public static func load(paths: [String]) throws -> Manifests {
        var manifests = Manifests()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ManifestError(code: .unreadable, source: path, detail: "cannot read file")
            }
            try manifests.decode(String(decoding: data, as: UTF8.self), source: path)
        }
        return manifests
    }
}

/// A manifest file that could not be read or parsed at all.
public struct ManifestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let unreadable = Code(name: "unreadable")
        public static let syntax = Code(name: "syntax")
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        public var description: String { name }
    }
    public var code: Code
    public var source: String
    public var detail: String

    public init(code: Code, source: String, detail: String) {
        self.code = code
        self.source = source
        self.detail = detail
    }

    public var description: String { "\(source): \(code): \(detail)" }
}
