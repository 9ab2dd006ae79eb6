import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import NFTablesRules
import Testing

/// Defence in depth behind validation: a state built with names holding every byte value (as if
/// validation had a hole) still compiles to exactly the rules of plain names, every name part
/// escaped by the dataplane's one text function.
@Suite("Every byte value in a name: escaped in iptables and nftables text")
struct HostileNamesTests {
    static func state(plain: Bool) -> ProxyState { HostileNames.state(plain: plain) }

    static let iptablesCompiler = IPTablesCompiler(options: IPTablesCompilerOptions(
        localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4)))

    /// Printable ASCII only (no control byte, no newline, nothing beyond ASCII).
    static func isPrintableASCII(_ text: Substring) -> Bool { text.utf8.allSatisfy { (0x20...0x7E).contains($0) } }

    @Test("iptables: the same lines as plain names, every comment plain")
    func iptables() throws {
        let hostile = Self.iptablesCompiler.compile(Self.state(plain: false), scope: .full, existingNATChains: [])
        let plain = Self.iptablesCompiler.compile(Self.state(plain: true), scope: .full, existingNATChains: [])
        let lines = hostile.payload.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == plain.payload.split(separator: "\n", omittingEmptySubsequences: false).count)
        #expect(hostile.natRuleTotal == plain.natRuleTotal && hostile.filterRuleCount == plain.filterRuleCount)
        for line in lines {
            #expect(Self.isPrintableASCII(line) && !line.contains("\\") && line.count(where: { $0 == "\"" }) % 2 == 0, "\(line)")
        }
        #expect(hostile.payload.contains("--comment ns-x34_22_22_27_5C_3B_7B_7D_20_C3_A9_E2_82_AC_F0_9D_84_9E/svc-x34_22_22_27_5C_3B"),
                "a quote, apostrophe, backslash, separators and letters beyond ASCII, escaped")
        let dump = try IPTablesDump(parsing: hostile.payload)
        #expect(dump.tables.flatMap(\.chains).count == (try IPTablesDump(parsing: plain.payload)).tables.flatMap(\.chains).count)
    }

    @Test("nftables: the same objects as plain names, every chain name one identifier, every comment plain")
    func nftables() throws {
        let compiler = NFTablesCompiler(options: Self.iptablesCompiler.options.common, family: .ipv4)
        let hostile = compiler.compile(Self.state(plain: false), scope: .full, previous: nil, existingChains: [], existingSets: [])
        let plain = compiler.compile(Self.state(plain: true), scope: .full, previous: nil, existingChains: [], existingSets: [])
        #expect(hostile.transaction.operations.count == plain.transaction.operations.count)
        #expect(hostile.activeChains.count == plain.activeChains.count)
        for chain in hostile.activeChains {
            #expect(chain.utf8.allSatisfy { TextEscaping.isAlphanumeric($0) || "-_./".utf8.contains($0) }, "\(chain)")
        }
        let text = hostile.transaction.rendered()
        #expect(text.split(separator: "\n").count == plain.transaction.rendered().split(separator: "\n").count)
        for line in text.split(separator: "\n") {
            #expect(Self.isPrintableASCII(line) && !line.contains("\\") && line.count(where: { $0 == "\"" }) % 2 == 0, "\(line)")
        }
        var table = NFTablesState(family: "ip", table: NFTablesCompiler.table)
        try table.apply(hostile.transaction)
        #expect(table.chainNames.count == plain.activeChains.count + table.chainNames.filter { !NFTChainNames.isServiceChain($0) }.count)
    }
}
