import Crypto
import Foundation
import NIOCore

/// Sends `payload` through an async byte channel in chunks while reading what comes back;
/// finishes the outbound side (END_STREAM) after the last chunk. Returns the SHA-256 of the bytes
/// received until the inbound side ended, and their count.
func pump(
    _ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, payload: [UInt8], chunk: Int = 256 * 1024
) async throws -> (sha256: String, count: Int) {
    try await channel.executeThenClose { inbound, outbound in
        try await withThrowingTaskGroup(of: (String, Int)?.self) { group in
            group.addTask {
                var offset = 0
                while offset < payload.count {
                    let end = min(offset + chunk, payload.count)
                    try await outbound.write(ByteBuffer(bytes: payload[offset..<end]))
                    offset = end
                }
                outbound.finish()
                return nil
            }
            group.addTask {
                var hasher = SHA256()
                var count = 0
                for try await buffer in inbound {
                    buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    count += buffer.readableBytes
                }
                return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), count)
            }
            var result: (String, Int)?
            for try await value in group where value != nil { result = value }
            return result!
        }
    }
}

/// Reads everything until the inbound side ends, as text.
func readAll(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) async throws -> String {
    var text = ""
    for try await var buffer in inbound { text += buffer.readString(length: buffer.readableBytes) ?? "" }
    return text
}
