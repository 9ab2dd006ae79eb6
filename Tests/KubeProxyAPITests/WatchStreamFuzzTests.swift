import Foundation
@testable import KubeProxyAPI
import KubeProxyModel
import KubeProxyTesting
import Testing

/// Fuzzing the watch stream: any chunking gives the same events, and garbage, truncated or
/// damaged lines are skipped alone while every intact event still decodes.
@Suite("Fuzz: the watch-event stream")
struct WatchStreamFuzzTests {
    static func event(_ i: Int) -> String {
        let type = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"][i % 4]
        return #"{"type":"\#(type)","object":{"kind":"Service","metadata":{"name":"svc\#(i)","namespace":"ns","resourceVersion":"\#(100 + i)"},"spec":{"clusterIP":"10.0.0.\#(i % 250)","ports":[{"name":"p","port":80}]}}}"#
    }

    static func decode(_ line: Data) -> WatchEvent<Service>? { try? JSONDecoder().decode(WatchEvent<Service>.self, from: line) }

    @Test("1,000 random chunkings of a 50-event stream split into the same 50 lines")
    func chunking() {
        let lines = (0..<50).map(Self.event)
        let stream = Array((lines.joined(separator: "\n") + "\n").utf8)
        var fuzz = Fuzz(seed: 3)
        for round in 0..<1000 {
            var splitter = WatchLines()
            var got: [Data] = []
            for chunk in fuzz.chunks(stream) { got += splitter.append(chunk) }
            if let last = splitter.finish() { got.append(last) }
            #expect(got.map { String(decoding: $0, as: UTF8.self) } == lines, "round \(round)")
            if got.count != lines.count { break }
        }
    }

    @Test("2,000 damaged streams: every intact event decodes, damaged lines are skipped, nothing crashes")
    func damage() {
        var fuzz = Fuzz(seed: 5)
        var damagedDecoded = 0
        for round in 0..<2000 {
            var lines = (0..<10).map { Array(Self.event(round * 10 + $0).utf8) }
            let victim = Int.random(in: 0..<lines.count, using: &fuzz.random)
            lines[victim] = fuzz.mutate(lines[victim]).filter { $0 != UInt8(ascii: "\n") }
            if round % 3 == 0 { lines.insert(fuzz.bytes(Int.random(in: 1...80, using: &fuzz.random)).filter { $0 != UInt8(ascii: "\n") }, at: victim) }
            var splitter = WatchLines()
            var decoded: [String] = []
            for chunk in fuzz.chunks(Array(lines.joined(separator: [UInt8(ascii: "\n")]))) {
                for line in splitter.append(chunk) { if let event = Self.decode(line) { decoded.append(event.resourceVersion ?? event.type) } }
            }
            if let last = splitter.finish(), let event = Self.decode(last) { decoded.append(event.resourceVersion ?? event.type) }
            let intact = (0..<10).filter { $0 != victim }.map { String(100 + round * 10 + $0) }
            #expect(Set(intact).isSubset(of: Set(decoded)), "round \(round): intact events lost")
            if decoded.count == 10 { damagedDecoded += 1 }
        }
        #expect(damagedDecoded < 1900, "the damage is real: \(damagedDecoded) streams still decoded all ten")
    }
}
