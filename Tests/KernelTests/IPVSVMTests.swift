import Foundation
import Testing

/// IPVS on a real IPVS kernel: Debian's stock kernel booted under qemu (vm/build.sh, vm/run.sh),
/// the project's binary inside it programming virtual and real servers over generic netlink and
/// reading them back; `ipvsadm -Ln` in the guest must show exactly that table.
@Suite("Kernel (VM): IPVS over generic netlink", .serialized, .enabled(if: IPVSVM.unavailableReason == nil, "\(IPVSVM.unavailableReason ?? "")"))
struct IPVSVMTests {
    @Test("services and destinations round-trip through the guest's IPVS; ipvsadm agrees; removal and flush work")
    func roundTrip() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("skp-vm-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let build = Lab.shell("'\(Lab.root.path)/vm/build.sh' '\(out)' '\(Lab.binary)'")
        try #require(build.status == 0, "vm/build.sh failed: \(build.output)")
        let run = Lab.shell("'\(Lab.root.path)/vm/run.sh' '\(out)' 300")
        let console = run.output
        try #require(run.status == 0, "the guest did not finish: \(console.suffix(3000))")
        let lines = console.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("ipvs-check: applied 6 operations; listed 2 services, 4 destinations; left 0"), "\(console.suffix(2000))")
        #expect(lines.contains("ipvs-check: TCP 198.18.10.10:80 rr flags 0 timeout 0 -> 198.18.1.2:8080@1 198.18.1.6:8080@1 198.18.1.10:8080@1"))
        #expect(lines.contains("ipvs-check: UDP 198.18.10.12:53 rr flags 1 timeout 600 -> 198.18.1.2:5353@1"))
        #expect(lines.contains("ipvs-check: endpoint removed: delete destination TCP 198.18.10.10:80 -> 198.18.1.2:8080"))
        // ipvsadm, the kernel's own view, after the removal: exactly this table.
        let table = lines.drop { $0 != "VM-STEP ipvsadm" }.dropFirst().prefix { !$0.hasPrefix("ipvs-check:") }
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(Array(table.dropFirst(3)) == [
            "TCP 198.18.10.10:80 rr", "-> 198.18.1.6:8080 Masq 1 0 0", "-> 198.18.1.10:8080 Masq 1 0 0",
            "UDP 198.18.10.12:53 rr persistent 600", "-> 198.18.1.2:5353 Masq 1 0 0",
        ], "\(table)")
        #expect(lines.contains("ipvs-check: flushed; listed 0 services"))
    }
}

/// Whether the IPVS VM can boot here.
enum IPVSVM {
    static let unavailableReason: String? = {
        if getuid() != 0 { return "needs root" }
        if Lab.shell("command -v qemu-system-x86_64").status != 0 { return "qemu-system-x86 is not installed (make test installs it)" }
        if Lab.shell("ls /boot/vmlinuz-*").status != 0 { return "no Debian kernel in /boot (make test installs linux-image-amd64)" }
        if !FileManager.default.isExecutableFile(atPath: Lab.binary) { return "build the binary first" }
        return nil
    }()

}
