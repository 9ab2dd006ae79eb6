import IPVSRules
import PacketTracer
import Testing

/// `ipset save` output read back as the IPVS tracer's sets (`trace --live` in IPVS mode).
@Suite("ipset save as the tracer's sets")
struct IPSetSaveTests {
    @Test("the kernel's save text of a sync's sets reads back as the sets the tracer was given")
    func roundTrip() throws {
        let tracer = try IPVSTracerTests.tracer(IPVSCompanionsTests.state())
        // As `ipset save` prints them: settings after the type, a host `net` without its /32, other sets too.
        var save = "create OTHER hash:ip family inet\nadd OTHER 198.18.0.1\n"
        for (name, set) in tracer.rules.ipsets.sorted(by: { $0.key < $1.key }) {
            save += "create \(name) \(set.type) family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1234\n"
            for entry in set.entries.sorted() {
                save += "add \(name) \(entry.hasSuffix("/32") && set.type.hasSuffix(",net") ? String(entry.dropLast(3)) : entry)\n"
            }
        }
        #expect(tracer.rules.ipsets.values.contains { !$0.entries.isEmpty })
        #expect(IPSetContents.sets(inSave: save) == tracer.rules.ipsets)
        let parsed = IPSetContents.sets(inSave: "create KUBE-X hash:ip,port,net family inet\nadd KUBE-X 198.18.30.1,tcp:80,198.18.2.2 comment \"a\"\n")
        #expect(parsed["KUBE-X"]?.entries == ["198.18.30.1,tcp:80,198.18.2.2/32"])
    }
}
