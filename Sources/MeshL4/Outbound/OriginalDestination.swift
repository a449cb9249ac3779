import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads where a connection redirected by netfilter NAT (iptables `REDIRECT` or `DNAT`)
/// was originally going: the `SO_ORIGINAL_DST` socket option, Linux only.
enum OriginalDestination {
    /// `SO_ORIGINAL_DST` (linux/netfilter_ipv4.h), at level `SOL_IP`: a `sockaddr_in`.
    static let ipv4Option: CInt = 80
    /// `IP6T_SO_ORIGINAL_DST` (linux/netfilter_ipv6/ip6_tables.h), at level `SOL_IPV6`: a `sockaddr_in6`.
    static let ipv6Option: CInt = 80

    /// The accepted socket's original destination. Fails when the socket is not an IP socket,
    /// on other systems than Linux, or when the kernel has no NAT record for it (no conntrack).
    ///
    /// NIO's `unsafeGetSocketOption` calls `getsockopt` with a zeroed buffer the size of the type
    /// asked for and returns it as that type. That is memory-safe here because the kernel writes
    /// exactly that type: for `SO_ORIGINAL_DST` it requires a buffer of at least
    /// `sizeof(struct sockaddr_in)` and copies one `sockaddr_in`; for `IP6T_SO_ORIGINAL_DST` the
    /// same with `sockaddr_in6` (`getorigdst` and `ipv6_getorigdst` in the kernel's conntrack).
    static func read(from channel: any Channel) -> EventLoopFuture<SocketAddress> {
        #if os(Linux)
        guard let socket = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        switch channel.localAddress {
        case .v4:
            return ipv4(socket)
        case .v6:
            // An IPv4 client of a dual-stack socket has only the IPv4 record.
            return ipv6(socket).flatMapError { _ in ipv4(socket) }
        default:
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        #else
        return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        #endif
    }

    private static func ipv4(_ socket: any SocketOptionProvider) -> EventLoopFuture<SocketAddress> {
        socket.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_IP)), name: NIOBSDSocket.Option(rawValue: ipv4Option)
        ).map { (address: sockaddr_in) in SocketAddress(address) }
    }

    private static func ipv6(_ socket: any SocketOptionProvider) -> EventLoopFuture<SocketAddress> {
        socket.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_IPV6)), name: NIOBSDSocket.Option(rawValue: ipv6Option)
        ).map { (address: sockaddr_in6) in SocketAddress(address) }
    }
}
