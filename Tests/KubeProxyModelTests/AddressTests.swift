import KubeProxyModel
import Testing

@Suite("Addresses and prefixes")
struct AddressTests {
    @Test("IPv4 with leading zeros parses as decimal, as Kubernetes' ParseIPSloppy", arguments: [
        ("172.30.0.041", "172.30.0.41"), ("192.168.099.022", "192.168.99.22"), ("1.2.3.004", "1.2.3.4"), ("10.180.00.001", "10.180.0.1"),
    ])
    func sloppyIPv4(_ input: String, _ canonical: String) {
        #expect(IPAddress(sloppy: input)?.description == canonical)
    }

    @Test("IPv6 prints in RFC 5952 form", arguments: [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::1", "::1"), ("fd00:10::", "fd00:10::"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("0:0:0:0:0:0:0:0", "::"), ("2001:db8:1::2", "2001:db8:1::2"), ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ])
    func ipv6(_ input: String, _ canonical: String) {
        #expect(IPAddress(sloppy: input)?.description == canonical)
    }

    @Test("garbage is rejected", arguments: ["", "1.2.3", "1.2.3.256", "a.b.c.d", "1::2::3", "12345::", "1.2.3.4.5", " 1.2.3.4"])
    func invalid(_ input: String) {
        #expect(IPAddress(sloppy: input) == nil)
    }

    @Test("CIDRs are trimmed, parsed sloppily and printed as their network")
    func cidrs() throws {
        #expect(CIDR(sloppy: " 203.0.113.0/25")?.description == "203.0.113.0/25")
        #expect(CIDR(sloppy: "203.0.113.000/025")?.description == "203.0.113.0/25")
        #expect(CIDR(sloppy: "10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(CIDR(sloppy: "2001:db8::1/64")?.description == "2001:db8::/64")
        #expect(CIDR(sloppy: "10.0.0.0/33") == nil)
        let pods = try #require(CIDR(sloppy: "10.0.0.0/8"))
        #expect(pods.contains(IPAddress(sloppy: "10.255.0.1")!))
        #expect(!pods.contains(IPAddress(sloppy: "11.0.0.1")!))
        #expect(!pods.contains(IPAddress(sloppy: "::1")!))
    }

    @Test("endpoint strings join host and port as Go does")
    func joinHostPort() {
        #expect(IPAddress(sloppy: "10.0.0.1")!.joinHostPort(80) == "10.0.0.1:80")
        #expect(IPAddress(sloppy: "fd00::1")!.joinHostPort(80) == "[fd00::1]:80")
    }

    @Test("Go durations", arguments: [("30s", 30.0), ("1m0s", 60.0), ("1h", 3600.0), ("500ms", 0.5), ("1m30s", 90.0), ("0", 0.0)])
    func durations(_ text: String, _ seconds: Double) {
        #expect(GoDuration(parsing: text)?.seconds == seconds)
    }

    @Test("network-order bytes round-trip for both families; other lengths are refused")
    func bytesRoundTrip() {
        for text in ["198.18.10.10", "2001:2::1", "2001:2:0:ffff::abcd"] {
            let ip = IPAddress(sloppy: text)!
            #expect(IPAddress(bytes: ip.bytes) == ip)
        }
        #expect(IPAddress(bytes: [198, 18, 0, 10])?.description == "198.18.0.10")
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }
}
