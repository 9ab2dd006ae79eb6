import Foundation
import KubeProxyCore
import KubeProxyKernel
import KubeProxyRuntime
import Logging
import Netlink
import NFTablesRules

/// `skp-bench --nftables-element-cost NxE` (run inside a scratch network namespace): programs the
/// nftables table of N Services × E endpoints, then times adding one set element, `samples` times,
/// with `nft add element` and with the netlink writer (`NFTablesNetlink`), and prints both medians
/// and their ratio. Removes the table afterwards.
enum ElementCost {
    static func run(services: Int, endpoints: Int, samples: Int = 15) async throws {
        let runner = SubprocessCommandRunner()
        var logger = Logger(label: "skp-bench")
        logger.logLevel = .error
        let proxier = NFTablesProxier(nft: NFTCommands(runner: runner), options: Bench.options(), family: .ipv4, logger: logger)
        let state = SyntheticCluster.state(services: services, endpoints: endpoints)
        let outcome = await proxier.sync(state)
        guard outcome.succeeded else { throw CommandError(executable: "nft", detail: outcome.error ?? "sync failed") }
        do {
            try await measure(services: services, endpoints: endpoints, samples: samples, programmed: outcome.duration, runner: runner)
        } catch {
            _ = try? await runner.run("nft", ["delete", "table", "ip", "kube-proxy"])
            throw error
        }
        _ = try? await runner.run("nft", ["delete", "table", "ip", "kube-proxy"])
    }

    static func measure(services: Int, endpoints: Int, samples: Int, programmed: Duration, runner: any CommandRunner) async throws {
        let socket = try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol)
        var sequence: UInt32 = 1
        var viaNFT: [Double] = [], viaNetlink: [Double] = [], withVerdict: [Double] = []
        let target = SyntheticCluster.name(0)   // an existing Service chain for the verdict
        let chain = NFTChainNames.service(target)
        for i in 0..<samples {
            let (r, t) = try await Bench.timeAsync { try await runner.run("nft", ["add", "element", "ip", "kube-proxy", "cluster-ips", "{ 198.18.99.\(i + 1) }"]) }
            guard r.succeeded else { throw CommandError(executable: "nft", detail: r.stderr) }
            viaNFT.append(t)
            let add = NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "cluster-ips", [.init(key: [198, 18, 98, UInt8(i + 1)])], sequence: sequence + 1)
            let (_, u) = try Bench.time { try socket.transaction(NFTablesNetlink.batch([add], begin: sequence, end: sequence + 2)) }
            sequence += 3
            viaNetlink.append(u)
            // The same with a verdict (a goto): the kernel must then re-validate every path of the table at commit.
            let key = NFTablesNetlink.key([[198, 18, 97, UInt8(i + 1)], [6], [0, 80]])
            let goto = NFTablesNetlink.elements(add: true, family: .ip, table: "kube-proxy", set: "service-ips", [.init(key: key, data: .goto(chain))], sequence: sequence + 1)
            let (_, v) = try Bench.time { try socket.transaction(NFTablesNetlink.batch([goto], begin: sequence, end: sequence + 2)) }
            sequence += 3
            withVerdict.append(v)
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let a = median(viaNFT), b = median(viaNetlink), c = median(withVerdict)
        print("## One set element added to the table of \(services) Services x \(endpoints) endpoints (\(programmed) to program)")
        print("| writer | median ms |\n| --- | --- |")
        print("| nft add element | \(String(format: "%.2f", a * 1000)) |")
        print("| netlink (NFTablesNetlink) | \(String(format: "%.3f", b * 1000)) |")
        print("| netlink, a service-ips element (goto: the table is re-validated) | \(String(format: "%.3f", c * 1000)) |")
        print("ratio: \(String(format: "%.0f", a / b))x")
    }
}
