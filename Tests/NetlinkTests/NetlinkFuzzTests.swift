import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import Netlink
import NFTablesRules
import NFTablesWire
import Testing

/// Fuzzing the netlink codec: random and damaged bytes are parsed or refused, never a crash; the
/// encoder turns every Service transaction of random clusters into messages that parse back whole.
@Suite("Fuzz: netlink parsers and the nf_tables encoder")
struct NetlinkFuzzTests {
    /// Parses `bytes` as far as the codec goes: messages, their attributes, nested ones, IPVS objects.
    static func parseDeep(_ bytes: [UInt8]) {
        guard let messages = try? NetlinkMessage.parse(bytes) else { return }
        for message in messages {
            _ = message.errorNumber
            guard let (_, attributes) = try? message.generic() else { continue }
            for attribute in attributes {
                _ = try? attribute.children().map { try? $0.children() }
                _ = try? IPVSService(attributes: (try? attribute.children()) ?? [])
                _ = try? IPVSDestination(attributes: (try? attribute.children()) ?? [], ipv6: attribute.type % 2 == 0)
            }
        }
    }

    @Test("5,000 random byte strings and 5,000 damaged valid messages: parsed or refused")
    func parsers() {
        var fuzz = Fuzz(seed: 11)
        for _ in 0..<5000 { Self.parseDeep(fuzz.bytes(Int.random(in: 0...200, using: &fuzz.random))) }
        let service = IPVSService(address: [198, 18, 10, 10], protocolNumber: 6, port: 80)
        let valid = IPVS.request(.newService, family: 0x20, sequence: 1, service: service).encoded()
        var refused = 0
        for _ in 0..<5000 {
            let damaged = fuzz.mutate(valid)
            if (try? NetlinkMessage.parse(damaged)) == nil { refused += 1 }
            Self.parseDeep(damaged)
        }
        #expect(refused > 100, "damage is refused often: \(refused)")
    }

    @Test("random clusters: every Service transaction encodes (adjacent source ranges go to nft), and each message parses back whole")
    func encoderRoundTrip() throws {
        let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        let compiler = NFTablesCompiler(options: options.common, family: .ipv4)
        var messages = 0, transactions = 0, leftToNFT = 0
        for seed in 1...30 as ClosedRange<UInt64> {
            var cluster = RandomCluster(seed: seed)
            let plan = compiler.compile(cluster.initial(), scope: .full, previous: nil, existingChains: [], existingSets: [])
            for transaction in plan.perService {
                transactions += 1
                let encoded: NFTNetlinkEncoder.Encoded
                do { encoded = try NFTNetlinkEncoder().encode(transaction, firstSequence: 1) } catch let error as NFTWireError {
                    // Adjacent or overlapping source ranges are left to nft by design.
                    #expect("\(error)".contains("unsupported: address set"), "seed \(seed): \(error)")
                    leftToNFT += 1
                    continue
                }
                for message in encoded.messages {
                    let parsed = try NetlinkMessage.parse(message.encoded())
                    #expect(parsed == [message], "seed \(seed)")
                    if message.payload.count > 4 { _ = try NetlinkAttribute.parse(message.payload[4...]) }
                    messages += 1
                }
            }
        }
        #expect(messages > 3000, "\(messages) messages")
        #expect(leftToNFT * 10 < transactions, "\(leftToNFT) of \(transactions) transactions left to nft")
    }
}
