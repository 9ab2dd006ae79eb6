import Foundation

/// One measurement: a mode, a Service count, a target, and the sync costs of that setup.
struct BenchRow: Sendable {
    var mode: String
    var services: Int
    var endpoints: Int
    var target: String
    var p50: Double, p90: Double, p99: Double
    var failures: Int
    var compileSeconds: Double, fullSyncSeconds: Double, updateSeconds: Double
    var payloadBytes: Int
    var rules: Int
}

/// The benchmark's outputs: CSV, an SVG chart and a text table.
enum BenchReport {
    static func csv(_ rows: [BenchRow]) -> String {
        var out = "mode,services,endpoints,target,p50_us,p90_us,p99_us,failures,compile_s,full_sync_s,one_endpoint_update_s,payload_bytes,rules\n"
        for r in rows {
            out += "\(r.mode),\(r.services),\(r.endpoints),\(r.target),\(f(r.p50)),\(f(r.p90)),\(f(r.p99)),\(r.failures),"
                + "\(f(r.compileSeconds, 4)),\(f(r.fullSyncSeconds, 4)),\(f(r.updateSeconds, 4)),\(r.payloadBytes),\(r.rules)\n"
        }
        return out
    }

    static func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

    /// p50 to the last service minus p50 to the first: what the rule walk adds.
    static func addedCost(_ rows: [BenchRow], mode: String, services: Int) -> Double? {
        let sel = rows.filter { $0.mode == mode && $0.services == services }
        guard let first = sel.first(where: { $0.target == "first" }), let last = sel.first(where: { $0.target == "last" }) else { return nil }
        return last.p50 - first.p50
    }

    static func table(_ rows: [BenchRow]) -> String {
        var out = "| mode | services | first p50 µs | last p50 µs | added µs | non-service p50 µs | full sync s | 1-endpoint sync s |\n|---|---|---|---|---|---|---|---|\n"
        let keys = rows.reduce(into: [(String, Int)]()) { acc, r in if !acc.contains(where: { $0 == (r.mode, r.services) }) { acc.append((r.mode, r.services)) } }
        for (mode, n) in keys {
            let sel = rows.filter { $0.mode == mode && $0.services == n }
            func p(_ t: String) -> String { sel.first { $0.target == t }.map { f($0.p50) } ?? "-" }
            let any = sel[0]
            out += "| \(mode) | \(n) | \(p("first")) | \(p("last")) | \(addedCost(rows, mode: mode, services: n).map { f($0) } ?? "-") | \(p("non-service")) | \(f(any.fullSyncSeconds, 3)) | \(f(any.updateSeconds, 3)) |\n"
        }
        return out
    }

    /// Added new-connection cost (last − first, p50) against Services, one line per mode, log x axis.
    static func svg(_ rows: [BenchRow]) -> String {
        let modes = rows.map(\.mode).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let counts = Array(Set(rows.map(\.services))).sorted()
        let points = modes.map { m in (m, counts.compactMap { n in addedCost(rows, mode: m, services: n).map { (n, $0) } }) }
        let maxY = max(10, points.flatMap { $0.1.map(\.1) }.max() ?? 10) * 1.1
        let minY = min(0, points.flatMap { $0.1.map(\.1) }.min() ?? 0)
        let (w, h, left, bottom, top, right) = (720.0, 420.0, 70.0, 50.0, 40.0, 170.0)
        let lo = log10(Double(counts.first ?? 1)), hi = log10(Double(max(counts.last ?? 10, (counts.first ?? 1) * 10)))
        func x(_ n: Int) -> Double { left + (log10(Double(n)) - lo) / max(hi - lo, 0.001) * (w - left - right) }
        func y(_ v: Double) -> Double { h - bottom - (v - minY) / (maxY - minY) * (h - bottom - top) }
        let colors = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c"]
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"22\" font-size=\"15\">Cost a new connection's rule walk adds (p50 to last Service − p50 to first)</text>\n"
        s += "<line x1=\"\(left)\" y1=\"\(y(minY))\" x2=\"\(w - right)\" y2=\"\(y(minY))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(h - bottom)\" stroke=\"black\"/>\n"
        for n in counts {
            s += "<text x=\"\(x(n))\" y=\"\(h - bottom + 18)\" text-anchor=\"middle\">\(n)</text>\n"
        }
        s += "<text x=\"\((left + w - right) / 2)\" y=\"\(h - 10)\" text-anchor=\"middle\">Services (log scale)</text>\n"
        for i in 0...4 {
            let v = minY + (maxY - minY) * Double(i) / 4
            s += "<text x=\"\(left - 8)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(Int(v.rounded()))</text>\n"
            s += "<line x1=\"\(left)\" y1=\"\(y(v))\" x2=\"\(w - right)\" y2=\"\(y(v))\" stroke=\"#ddd\"/>\n"
        }
        s += "<text x=\"16\" y=\"\((top + h - bottom) / 2)\" transform=\"rotate(-90 16 \((top + h - bottom) / 2))\" text-anchor=\"middle\">added µs per new connection</text>\n"
        for (i, (mode, pts)) in points.enumerated() {
            let color = colors[i % colors.count]
            let path = pts.map { "\(x($0.0)),\(y($0.1))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in pts { s += "<circle cx=\"\(x(p.0))\" cy=\"\(y(p.1))\" r=\"3\" fill=\"\(color)\"/>\n" }
            s += "<text x=\"\(w - right + 10)\" y=\"\(top + 20 + Double(i) * 18)\" fill=\"\(color)\">\(mode)</text>\n"
        }
        return s + "</svg>\n"
    }
}
