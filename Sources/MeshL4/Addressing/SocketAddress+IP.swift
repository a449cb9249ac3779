import MeshAPI
import NIOCore

extension SocketAddress {
    /// An IP socket address.
    init(_ ip: IPAddressBytes, port: UInt16) {
        // IPAddressBytes always holds 4 or 16 bytes, the two lengths packedIPAddress accepts,
        // so this cannot throw.
        self = try! SocketAddress(packedIPAddress: ByteBuffer(bytes: ip.bytes), port: Int(port))
    }

    /// The IP address in network byte order (4 or 16 bytes); nil for a UNIX socket address.
    var ipBytes: IPAddressBytes? {
        switch self {
        case .v4(let v4): IPAddressBytes(bytes: withUnsafeBytes(of: v4.address.sin_addr) { Array($0) })
        case .v6(let v6): IPAddressBytes(bytes: withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) })
        default: nil
        }
    }
}
