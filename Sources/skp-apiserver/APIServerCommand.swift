import ArgumentParser
import Foundation
import KubeProxyTesting
import Yams

/// A stand-in Kubernetes API server for the lab, the demo and the daemon benchmark: serves the
/// objects of manifest files (re-read when they change, so edits become watch events) or a
/// synthetic cluster, over TLS with client certificates, and writes a kubeconfig for it.
/// With `--churn N` it then changes one endpoint at a time, waits for the proxy's log to show
/// the sync, and prints the event-to-kernel latency distribution.
@main
struct APIServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "skp-apiserver",
                                                    abstract: "A test Kubernetes API server (list/watch of Services, EndpointSlices, Nodes) for the lab.")

    @Option(help: "ip:port to listen on.") var listen = "198.18.2.2:6443"
    @Option(parsing: .upToNextOption, help: "Manifest files to serve (YAML or JSON; re-read every 100 ms).") var manifests: [String] = []
    @Option(help: "Serve a synthetic cluster instead: SERVICESxENDPOINTS, e.g. 10000x10.") var synthetic: String?
    @Option(help: "Node name for the synthetic cluster's Node.") var node = "lab-node"
    @Option(help: "Folder for the PKI and the kubeconfig (created).") var pki: String
    @Option(help: "After startup, change one endpoint N times, one at a time (synthetic cluster only).") var churn = 0
    @Option(help: "The proxy's log, whose \"sync done\" lines --churn waits for.") var proxyLog: String?

    func run() async throws {
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--listen: ip:port") }
        let host = String(parts[0])
        let certificates = try TestCertificates(ips: [host])
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        for file in ["ca.pem", "client.pem", "client-key.pem"] {
            try? FileManager.default.removeItem(atPath: pki + "/" + file)
            try FileManager.default.copyItem(atPath: certificates.directory + "/" + file, toPath: pki + "/" + file)
        }
        let server = try await TestAPIServer(host: host, port: port, tls: try certificates.serverContext(requireClientCertificate: true))
        let local = TestCertificates.Paths(ca: pki + "/ca.pem", clientCert: pki + "/client.pem", clientKey: pki + "/client-key.pem")
        try local.kubeconfig(server: server.url).write(toFile: pki + "/kubeconfig", atomically: true, encoding: .utf8)
        say("serving \(server.url); kubeconfig: \(pki)/kubeconfig")

        if let synthetic {
            let spec = synthetic.split(separator: "x").compactMap { Int($0) }
            guard spec.count == 2 else { throw ValidationError("--synthetic: SERVICESxENDPOINTS") }
            let start = Date()
            Synthetic.load(into: server, services: spec[0], endpoints: spec[1], node: node)
            say("loaded \(spec[0]) Services x \(spec[1]) endpoints in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            if churn > 0 {
                guard let proxyLog else { throw ValidationError("--churn needs --proxy-log") }
                try await Churn(server: server, services: spec[0], endpoints: spec[1], log: proxyLog).run(count: churn)
                return
            }
            try await Task.sleep(for: .seconds(1_000_000))
        }
        var follower = ManifestMirror(server: server, paths: manifests)
        while true {
            do { try follower.sync() } catch { FileHandle.standardError.write(Data("manifests: \(error)\n".utf8)) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Mirrors manifest files into the server: new or changed objects are applied, vanished ones deleted.
struct ManifestMirror {
    let server: TestAPIServer
    let paths: [String]
    var served: [String: (path: String, json: String, namespace: String?, name: String)] = [:]
    var fingerprint = ""

    init(server: TestAPIServer, paths: [String]) {
        self.server = server
        self.paths = paths
    }

    mutating func sync() throws {
        let print = paths.map { path in
            let a = try? FileManager.default.attributesOfItem(atPath: path)
            return "\(path):\((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0):\((a?[.size] as? NSNumber)?.intValue ?? 0)"
        }.joined(separator: ",")
        guard print != fingerprint else { return }
        fingerprint = print
        var seen: Set<String> = []
        for path in paths {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for case var document as [String: Any] in try Yams.load_all(yaml: text) {
                let items = document["kind"] as? String == "List" ? (document["items"] as? [[String: Any]] ?? []) : [document]
                for item in items {
                    document = item
                    guard let collection = Self.collection(document["kind"] as? String) else { continue }
                    let meta = document["metadata"] as? [String: Any] ?? [:]
                    let namespace = meta["namespace"] as? String ?? (collection.hasSuffix("/nodes") ? nil : "default")
                    if namespace != nil && meta["namespace"] == nil {
                        var m = meta
                        m["namespace"] = namespace
                        document["metadata"] = m
                    }
                    let name = meta["name"] as? String ?? ""
                    let key = "\(collection)|\(namespace ?? "")/\(name)"
                    let json = String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
                    seen.insert(key)
                    if served[key]?.json != json {
                        server.apply(collection, document)
                        served[key] = (collection, json, namespace, name)
                    }
                }
            }
        }
        for (key, value) in served where !seen.contains(key) {
            server.delete(value.path, namespace: value.namespace, name: value.name)
            served[key] = nil
        }
    }

    static func collection(_ kind: String?) -> String? {
        switch kind {
        case "Service": "/api/v1/services"
        case "EndpointSlice": "/apis/discovery.k8s.io/v1/endpointslices"
        case "Node": "/api/v1/nodes"
        default: nil
        }
    }
}

/// One line on standard output, unbuffered (scripts wait for these lines).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
