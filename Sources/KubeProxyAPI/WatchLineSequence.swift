import AsyncHTTPClient
import Foundation

/// A watch response's body as its newline-delimited JSON documents, one per element, read from
/// the body as the iterating task asks for them (no task of its own).
public struct WatchLineSequence: AsyncSequence {
    public typealias Element = Data
    let body: HTTPClientResponse.Body

    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: HTTPClientResponse.Body.AsyncIterator
        var lines = WatchLines()
        var ready: [Data] = []
        var finished = false

        public mutating func next() async throws -> Data? {
            while ready.isEmpty {
                guard !finished else { return nil }
                if let chunk = try await chunks.next() {
                    ready = lines.append(chunk.readableBytesView).reversed()
                } else {
                    finished = true
                    if let last = lines.finish() { ready = [last] }
                }
            }
            return ready.removeLast()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: body.makeAsyncIterator()) }
}
