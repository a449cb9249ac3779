import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeshAPI
import MeshProto
import Testing
import X509

@testable import MeshCA

/// Throughput measurements; run with `MESH_BENCH=1` (they print signings per second).
@Suite("Benchmarks", .enabled(if: ProcessInfo.processInfo.environment["MESH_BENCH"] == "1", "set MESH_BENCH=1"))
struct BenchmarkTests {
    @Test("CSR signings per second, in process, on all cores")
    func inProcessSigning() async throws {
        let authority = try makeAuthority()
        let identities = (0..<64).map { spiffe("bench", "sa\($0)") }
        let csrs = try identities.map { try CSRBuilder.make(for: $0).csrPEM }
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = 4000
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for index in 0..<perWorker {
                        let slot = (worker * perWorker + index) % identities.count
                        _ = try authority.sign(csrPEM: csrs[slot], for: identities[slot])
                    }
                    return perWorker
                }
            }
            for try await _ in group {}
        }
        let seconds = (ContinuousClock.now - start).timeInterval
        let rate = Double(workers * perWorker) / seconds
        print("BENCH in-process: \(workers * perWorker) signings in \(String(format: "%.2f", seconds)) s = \(Int(rate)) signings/s on \(workers) cores")
        #expect(rate > 0)
    }

    @Test("CSR signings per second over gRPC+TLS on loopback, token-authenticated")
    func grpcSigning() async throws {
        let fixture = try CAFixture()
        let token = try fixture.token(namespace: "default", serviceAccount: "app-a")
        let id = spiffe("default", "app-a")
        let csrs = try (0..<32).map { _ in try CSRBuilder.make(for: id).csrPEM }
        let roots = try PEMCodec.pem(fixture.authority.trustBundle.roots)
        let concurrency = 32
        let perTask = 150
        try await withCAServer(fixture) { port in
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port),
                transportSecurity: .tls(
                    .init(
                        certificateChain: [], privateKey: nil, serverCertificateVerification: .fullVerification,
                        trustRoots: .certificates([.bytes(Array(roots.utf8), format: .pem)]))))
            try await withGRPCClient(transport: transport) { grpc in
                let ca = Istio_V1_Auth_IstioCertificateService.Client(wrapping: grpc)
                let metadata: Metadata = ["authorization": "Bearer \(token)"]
                // Warm up the connection.
                var warm = Istio_V1_Auth_IstioCertificateRequest()
                warm.csr = csrs[0]
                _ = try await ca.createCertificate(warm, metadata: metadata)
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<concurrency {
                        group.addTask {
                            for index in 0..<perTask {
                                var request = Istio_V1_Auth_IstioCertificateRequest()
                                request.csr = csrs[(task + index) % csrs.count]
                                request.validityDuration = 3600
                                let response = try await ca.createCertificate(request, metadata: metadata)
                                precondition(response.certChain.count == 2)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let seconds = (ContinuousClock.now - start).timeInterval
                let total = concurrency * perTask
                print("BENCH gRPC: \(total) signings in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) signings/s (TLS, JWT auth, \(concurrency) concurrent calls, one connection)")
            }
        }
    }
}

/// The signing path's shortcuts (taken for throughput) produce exactly what the general code does.
@Suite("Signing fast paths")
struct SigningFastPathTests {
    @Test("the leaf's PEM is byte for byte what PEMCodec writes")
    func leafPEMMatchesPEMCodec() throws {
        let authority = try makeAuthority()
        let id = spiffe("bench", "pem")
        let issued = try authority.sign(csrPEM: try CSRBuilder.make(for: id).csrPEM, for: id)
        #expect(issued.pemChain[0] == (try PEMCodec.pem(issued.leaf)))
    }

    @Test("serial numbers are 16 positive bytes without a leading zero octet, and differ")
    func serialNumbers() {
        let serials = (0..<64).map { _ in Certificate.SerialNumber.randomPositive() }
        for serial in serials {
            let bytes = Array(serial.bytes)
            #expect(bytes.count == 16)
            #expect(bytes[0] & 0x80 == 0 && bytes[0] != 0)
        }
        #expect(Set(serials.map { Array($0.bytes) }).count == serials.count)
    }
}
