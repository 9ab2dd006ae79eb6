import Foundation

/// Splits a watch stream's bytes into its newline-delimited JSON documents as chunks arrive,
/// holding only the unfinished line; empty lines are dropped.
struct WatchLines {
    private var pending = Data()

    /// The lines `chunk` completes.
    mutating func append<Bytes: Collection<UInt8>>(_ chunk: Bytes) -> [Data] {
        pending.append(contentsOf: chunk)
        var lines: [Data] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pending[pending.startIndex..<newline]
            if !line.isEmpty { lines.append(Data(line)) }
            pending.removeSubrange(pending.startIndex...newline)
        }
        return lines
    }

    /// The last line, when the stream ended without a newline.
    func finish() -> Data? { pending.isEmpty ? nil : pending }
}
