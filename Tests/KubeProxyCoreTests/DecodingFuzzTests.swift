import Foundation
import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import Testing

/// Fuzzing the edges: thousands of mutated manifests and configurations decode or are refused,
/// never crash, and a damaged Service never changes another Service's ports.
@Suite("Fuzz: manifest and configuration decoding")
struct DecodingFuzzTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ name: String) throws -> String { try String(contentsOf: root.appendingPathComponent("examples/\(name)"), encoding: .utf8) }

    static func ports(_ manifests: Manifests) -> [ServicePortName: ServicePortInfo] {
        ProxyState.build(services: manifests.services, endpointSlices: manifests.endpointSlices, node: nil, family: .ipv4, nodeName: "lab-node").state.services
    }

    @Test("2,000 mutated copies of the example cluster: decoded or refused; every object of a document left whole decodes as before")
    func manifests() throws {
        let documents = try Self.example("cluster.yaml").components(separatedBy: "\n---\n")
        #expect(documents.count > 10)
        var fuzz = Fuzz(seed: 12)
        var decoded = 0, refused = 0
        func key(_ service: Service) -> String { "\(service.metadata.namespace ?? "default")/\(service.metadata.name ?? "")" }
        // The cluster without each document, as if it had been dropped whole.
        let without = try documents.indices.map { victim in
            var clean = Manifests()
            try clean.decode(documents.enumerated().filter { $0.offset != victim }.map(\.element).joined(separator: "\n---\n"), source: "clean")
            return (services: Set(clean.services.map(key)), ports: Self.ports(clean))
        }
        for round in 0..<2000 {
            // One document damaged; the rest as written.
            let victim = Int.random(in: 0..<documents.count, using: &fuzz.random)
            var damaged = documents
            damaged[victim] = String(decoding: fuzz.mutate(Array(documents[victim].utf8)), as: UTF8.self)
            var m = Manifests()
            do { try m.decode(damaged.joined(separator: "\n---\n"), source: "fuzz#\(round)") } catch { refused += 1; continue }
            decoded += 1
            // Every Service port of the other documents is there, unchanged, unless the damaged
            // document now names that Service too (a legitimate change to it).
            let keys = m.services.map(key)
            let fromDamaged = Set(keys).subtracting(without[victim].services).union(Dictionary(grouping: keys, by: { $0 }).filter { $0.value.count > 1 }.keys)
            let got = Self.ports(m)
            for (name, info) in without[victim].ports where !fromDamaged.contains(name.namespacedName) {
                #expect(got[name] == info, "round \(round): \(name) changed by damaging document \(victim)")
            }
        }
        #expect(decoded > 500 && refused > 10, "both outcomes are exercised: \(decoded) decoded, \(refused) refused")
    }

    @Test("2,000 mutated configurations: decoded strictly or refused with a reason, never a crash")
    func configurations() throws {
        let text = Array(try Self.example("config.yaml").utf8)
        var fuzz = Fuzz(seed: 7)
        var accepted = 0, refused = 0
        for _ in 0..<2000 {
            let mutated = String(decoding: fuzz.mutate(text), as: UTF8.self)
            do {
                let config = try KubeProxyConfiguration.strictlyDecoding(mutated, source: "fuzz")
                _ = config.validationErrors()
                accepted += 1
            } catch {
                #expect(!"\(error)".isEmpty)
                refused += 1
            }
        }
        #expect(accepted > 100 && refused > 100, "\(accepted) accepted, \(refused) refused")
    }
}
