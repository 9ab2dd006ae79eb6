import KubeProxyKernel
import KubeProxyTesting
import Netlink
import NFTablesRules
import Testing

/// The nftables netlink writer without root: what it sends, how a refusal is named, and what goes
/// to `nft` instead (the kernel's answers are `NFTablesWireKernelTests`').
@Suite("nftables netlink writer: batches, refusals, the nft fallback")
struct NFTablesNetlinkWriterTests {
    static func transaction() -> NFTTransaction {
        var tx = NFTTransaction(family: "ip", table: NFTablesCompiler.table)
        tx.add(.chain(name: "endpoint-new", base: nil, comment: nil))
        tx.add(.rule(chain: "endpoint-new", text: "ip saddr 198.18.1.9 jump mark-for-masquerade"))
        tx.add(.rule(chain: "endpoint-new", text: "meta l4proto tcp dnat to 198.18.1.9:8080"))
        return tx
    }

    @Test("one transaction is one batch: BEGIN, the operations, END, consecutive sequence numbers")
    func oneBatch() async throws {
        let transport = RecordingNetfilterTransport()
        let nft = FakeNFTables()
        let writer = NFTablesNetlinkWriter(nft: nft, socket: transport)
        try await writer.run(Self.transaction())
        let batch = try #require(transport.batches.first)
        #expect(transport.batches.count == 1 && writer.transactions.netlink == 1 && writer.transactions.nft == 0)
        #expect(batch.first?.type == 0x10 && batch.last?.type == 0x11, "framed by NFNL_MSG_BATCH_BEGIN and _END")
        #expect(batch.count >= 2 + 3)
        #expect(zip(batch, batch.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })
    }

    @Test("a refused message names the transaction's operation and its nft line")
    func refusal() async throws {
        let transport = RecordingNetfilterTransport()
        let writer = NFTablesNetlinkWriter(nft: FakeNFTables(), socket: transport)
        transport.refuseNext(at: 3, errno: 2)
        let error = try await #require(throws: NFTablesError.self) { try await writer.run(Self.transaction()) }
        #expect(error.operation == 3 && error.message.contains("dnat to 198.18.1.9:8080"), "\(error)")
        #expect(writer.transactions.netlink == 0)
    }

    @Test("what the encoder cannot write goes to nft, whole")
    func fallback() async throws {
        let transport = RecordingNetfilterTransport()
        let nft = FakeNFTables()
        let writer = NFTablesNetlinkWriter(nft: nft, socket: transport)
        var tx = NFTTransaction(family: "inet", table: "other")
        tx.add(.table(comment: nil))
        try await writer.run(tx)
        #expect(transport.batches.isEmpty && writer.transactions.nft == 1)
    }
}
