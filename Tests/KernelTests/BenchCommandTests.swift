import Foundation
import Testing

/// `swift-kube-proxy bench` at small sizes: it measures every mode, writes the CSV and the chart,
/// and leaves no namespace behind.
@Suite("Kernel: the bench command", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct BenchCommandTests {
    @Test("bench --quick writes a row per mode, size and target, and an SVG chart")
    func smallRun() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("skp-bench-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: out) }
        let start = Date()
        let r = Lab.shell("'\(Lab.binary)' bench --quick --output '\(out.path)'")
        #expect(Date().timeIntervalSince(start) < 90, "--quick is meant to take under a minute")
        #expect(r.status == 0, "\(r.output)")
        let csv = try String(contentsOf: out.appendingPathComponent("bench.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 5 * 2 * 4, "\(csv)")
        for row in rows {
            #expect(row[7] == "0", "connections failed: \(row)")
            #expect((Double(row[4]) ?? 0) > 0, "p50 measured: \(row)")
        }
        let iptablesRules = rows.first { $0[0] == "iptables-legacy" && $0[1] == "1000" }.map { Int($0[12]) ?? 0 } ?? 0
        #expect(iptablesRules > 1000 * 3, "rule counts grow with services")
        let svg = try String(contentsOf: out.appendingPathComponent("bench.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<polyline").count == 6)
        #expect(!Lab.shell("ip netns list").output.contains("skpb"), "bench removed its namespaces")
    }
}
