import Foundation
import KubeProxyKernel
import KubeProxyTesting
import Netlink
import Testing

/// The codec against this machine's kernel, from a socket made inside a scratch namespace.
@Suite("Kernel: generic netlink round trip", .enabled(if: getuid() == 0, "needs root for network namespaces"))
struct NetlinkKernelTests {
    @Test("nlctrl resolves itself to 0x10; IPVS resolves to an id where the kernel has it, else ENOENT")
    func familyLookup() throws {
        let namespace = "skpnl\(getpid())"
        #expect(system("ip netns add \(namespace)") == 0)
        defer { _ = system("ip netns del \(namespace)") }
        let fd = try NetworkNamespace.run(in: namespace) { socket(16, Int32(SOCK_RAW.rawValue), NetlinkSocket.netlinkGeneric) }
        let netlink = try NetlinkSocket(fd: fd)
        #expect(try netlink.familyID("nlctrl") == GenericNetlinkController.family)
        let ipvsAvailable = FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
        do {
            let id = try netlink.familyID(IPVS.familyName)
            #expect(ipvsAvailable, "IPVS resolved to \(id) on a kernel without /proc/net/ip_vs")
        } catch let error as NetlinkError {
            #expect(!ipvsAvailable)
            #expect(error.code == .kernel && error.errno == ENOENT, "\(error)")
        }
        // Sequence numbers advance, and an unknown family name fails alone (the socket stays usable).
        #expect(throws: NetlinkError.self) { try netlink.familyID("no-such-family") }
        #expect(try netlink.familyID("nlctrl") == 0x10)
    }
}
