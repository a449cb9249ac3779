import Foundation
import MeshAPI
import MeshProto
import SwiftProtobuf
import NIOCore
import Testing

@testable import MeshL4

// MARK: - Building policies as istiod sends them

private func sm(_ text: String) -> Istio_Security_StringMatch {
    // istiod's conversion: "*" → presence, "*x" → suffix, "x*" → prefix, else exact.
    var m = Istio_Security_StringMatch()
    if text == "*" {
        m.presence = Google_Protobuf_Empty()
    } else if text.hasPrefix("*") {
        m.suffix = String(text.dropFirst())
    } else if text.hasSuffix("*") {
        m.prefix = String(text.dropLast())
    } else {
        m.exact = text
    }
    return m
}

private func cidr(_ text: String) -> Istio_Security_Address {
    let block = CIDRBlock(text)!
    var a = Istio_Security_Address()
    a.address = Data(block.address.bytes)
    a.length = UInt32(block.prefixLength)
    return a
}

private func match(_ build: (inout Istio_Security_Match) -> Void) -> Istio_Security_Match {
    var m = Istio_Security_Match()
    build(&m)
    return m
}

/// A rule whose clauses each hold the given matches.
private func rule(_ clauses: [Istio_Security_Match]...) -> Istio_Security_Rule {
    var r = Istio_Security_Rule()
    r.clauses = clauses.map { matches in
        var c = Istio_Security_Clause()
        c.matches = matches
        return c
    }
    return r
}

private func policy(
    _ key: String, _ action: Istio_Security_Action = .allow, scope: Istio_Security_Scope = .namespace,
    dryRun: Bool = false, rules: [Istio_Security_Rule] = []
) -> Istio_Security_Authorization {
    let parts = key.split(separator: "/").map(String.init)
    var p = Istio_Security_Authorization()
    p.namespace = parts[0]
    p.name = parts[1]
    p.action = action
    p.scope = scope
    p.dryRun = dryRun
    p.rules = rules
    return p
}

private func set(_ policies: Istio_Security_Authorization...) throws -> L4PolicySet {
    var s = L4PolicySet()
    for p in policies { try s.insert(p) }
    return s
}

private func conn(
    from source: String = "10.0.0.1", sourcePort: UInt16 = 40000,
    to destination: String = "10.0.1.1", port destinationPort: UInt16 = 8080, identity: String? = "spiffe://cluster.local/ns/client/sa/sleep"
) -> L4Connection {
    L4Connection(
        sourceIP: IPAddressBytes(source)!, sourcePort: sourcePort,
        destinationIP: IPAddressBytes(destination)!, destinationPort: destinationPort,
        sourceIdentity: identity.map { try! SpiffeID(parsing: $0) })
}

private let server = L4Destination(namespace: "server")

// MARK: - Evaluation order

@Suite("L4 authorization: evaluation order")
struct L4EvaluationOrderTests {
    @Test func noPoliciesAllows() {
        let d = L4PolicySet().evaluate(conn(), to: server)
        #expect(d.isAllowed)
        #expect(d.reason == "no allow policies")
        #expect(d.policy == nil)
    }

    @Test func allowWithoutRulesDeniesEverything() throws {
        let d = try set(policy("server/allow-nothing")).evaluate(conn(), to: server)
        #expect(!d.isAllowed)
        #expect(d.reason == "allow policies exist, but none allowed")
    }

    @Test func denyWithoutRulesHasNoEffect() throws {
        let d = try set(policy("server/deny-nothing", .deny)).evaluate(conn(), to: server)
        #expect(d.isAllowed)
        #expect(d.reason == "no allow policies")
    }

    @Test func denyWinsOverAMatchingAllow() throws {
        let anyone = rule([match { $0.principals = [sm("*")] }])
        let s = try set(policy("server/allow-all", rules: [anyone]), policy("server/deny-all", .deny, rules: [anyone]))
        let d = s.evaluate(conn(), to: server)
        #expect(d.verdict == .deny)
        #expect(d.policy == "server/deny-all")
        #expect(d.reason == "explicitly denied by: server/deny-all")
    }

    @Test func allowMustMatchOnceOneExists() throws {
        let onlyFrontend = rule([match { $0.principals = [sm("cluster.local/ns/client/sa/frontend")] }])
        let s = try set(policy("server/frontend-only", rules: [onlyFrontend]))
        #expect(!s.evaluate(conn(), to: server).isAllowed)
        let allowed = s.evaluate(conn(identity: "spiffe://cluster.local/ns/client/sa/frontend"), to: server)
        #expect(allowed.isAllowed)
        #expect(allowed.policy == "server/frontend-only")
        #expect(allowed.reason == "allowed by: server/frontend-only")
    }

    @Test func dryRunPoliciesAreOnlyReported() throws {
        let anyone = rule([match { $0.principals = [sm("*")] }])
        let s = try set(
            policy("server/would-deny", .deny, dryRun: true, rules: [anyone]),
            policy("server/would-allow-nobody", dryRun: true))
        let d = s.evaluate(conn(), to: server)
        // The dry-run DENY matched but is not enforced; the dry-run ALLOW does not count as an
        // enforced ALLOW, so there are "no allow policies".
        #expect(d.isAllowed)
        #expect(d.reason == "no allow policies")
        #expect(d.dryRunMatches == ["server/would-deny"])
    }

    @Test func dryRunAllowDoesNotRescueAConnection() throws {
        let anyone = rule([match { $0.principals = [sm("*")] }])
        let s = try set(policy("server/enforced-none"), policy("server/dry-allow", dryRun: true, rules: [anyone]))
        let d = s.evaluate(conn(), to: server)
        #expect(!d.isAllowed)
        #expect(d.dryRunMatches == ["server/dry-allow"])
    }
}

// MARK: - Scopes

@Suite("L4 authorization: scopes")
struct L4ScopeTests {
    @Test func globalAppliesEverywhereNamespaceOnlyInItsNamespace() throws {
        let s = try set(
            policy("istio-system/global-deny-plaintext", .deny, scope: .global,
                   rules: [rule([match { $0.notPrincipals = [sm("*")] }])]),
            policy("server/ns-allow-nothing", scope: .namespace))
        // Namespace policy applies to server, not to other.
        #expect(!s.evaluate(conn(), to: server).isAllowed)
        #expect(s.evaluate(conn(), to: L4Destination(namespace: "other")).isAllowed)
        // The global one applies to both.
        let plaintext = conn(identity: nil)
        #expect(s.evaluate(plaintext, to: L4Destination(namespace: "other")).policy == "istio-system/global-deny-plaintext")
        #expect(s.policies(for: L4Destination(namespace: "other")).map(\.key) == ["istio-system/global-deny-plaintext"])
    }

    @Test func workloadSelectorPoliciesApplyOnlyWhenListed() throws {
        let s = try set(policy("server/only-selected", scope: .workloadSelector))
        #expect(s.evaluate(conn(), to: server).isAllowed)
        let selected = L4Destination(namespace: "server", selectedPolicies: ["server/only-selected", "server/missing"])
        #expect(!s.evaluate(conn(), to: selected).isAllowed)
        #expect(s.policies(for: selected).map(\.key) == ["server/only-selected"])
        // A selector policy of another namespace listed by the workload still applies (by key).
        let workload = { () -> Istio_Workload_Workload in
            var w = Istio_Workload_Workload()
            w.namespace = "elsewhere"
            w.authorizationPolicies = ["server/only-selected"]
            return w
        }()
        #expect(!s.evaluate(conn(), to: L4Destination(workload: workload)).isAllowed)
    }

    @Test func replacingAPolicyMovesItBetweenScopes() throws {
        var s = try set(policy("server/p", scope: .namespace))
        #expect(!s.evaluate(conn(), to: server).isAllowed)
        try s.insert(policy("server/p", scope: .workloadSelector))
        #expect(s.count == 1)
        #expect(s.evaluate(conn(), to: server).isAllowed)
        #expect(s.remove(key: "server/p") != nil)
        #expect(s.count == 0)
        #expect(s.remove(key: "server/p") == nil)
    }
}

// MARK: - Matching

@Suite("L4 authorization: match fields")
struct L4MatchTests {
    /// Evaluates one ALLOW policy with the given match against a connection.
    private func allows(_ m: Istio_Security_Match, _ c: L4Connection) throws -> Bool {
        try set(policy("server/p", rules: [rule([m])])).evaluate(c, to: server).isAllowed
    }

    @Test func principalStringForms() throws {
        let c = conn(identity: "spiffe://cluster.local/ns/client/sa/sleep")
        #expect(try allows(match { $0.principals = [sm("cluster.local/ns/client/sa/sleep")] }, c))
        #expect(try !allows(match { $0.principals = [sm("spiffe://cluster.local/ns/client/sa/sleep")] }, c))
        #expect(try allows(match { $0.principals = [sm("cluster.local/ns/client/*")] }, c))
        #expect(try allows(match { $0.principals = [sm("*/sa/sleep")] }, c))
        #expect(try !allows(match { $0.principals = [sm("*/sa/other")] }, c))
        #expect(try allows(match { $0.principals = [sm("*")] }, c))
        // Any value of a field may match.
        #expect(try allows(match { $0.principals = [sm("x"), sm("*sleep")] }, c))
        #expect(try !allows(match { $0.notPrincipals = [sm("x"), sm("*sleep")] }, c))
        #expect(try allows(match { $0.notPrincipals = [sm("x")] }, c))
    }

    @Test func plaintextHasNoIdentity() throws {
        let plaintext = conn(identity: nil)
        #expect(try !allows(match { $0.principals = [sm("*")] }, plaintext))
        #expect(try allows(match { $0.notPrincipals = [sm("*")] }, plaintext))
        #expect(try !allows(match { $0.namespaces = [sm("*")] }, plaintext))
        #expect(try allows(match { $0.notNamespaces = [sm("client")] }, plaintext))
        var sa = Istio_Security_ServiceAccountMatch()
        sa.namespace = "client"
        sa.serviceAccount = "sleep"
        #expect(try !allows(match { $0.serviceAccounts = [sa] }, plaintext))
        #expect(try allows(match { $0.notServiceAccounts = [sa] }, plaintext))
    }

    @Test func namespacesAndServiceAccounts() throws {
        let c = conn(identity: "spiffe://cluster.local/ns/client/sa/sleep")
        #expect(try allows(match { $0.namespaces = [sm("client")] }, c))
        #expect(try allows(match { $0.namespaces = [sm("cli*")] }, c))
        #expect(try !allows(match { $0.namespaces = [sm("server")] }, c))
        #expect(try !allows(match { $0.notNamespaces = [sm("client")] }, c))
        var sleep = Istio_Security_ServiceAccountMatch()
        sleep.namespace = "client"
        sleep.serviceAccount = "sleep"
        var wrongNamespace = sleep
        wrongNamespace.namespace = "server"
        #expect(try allows(match { $0.serviceAccounts = [sleep] }, c))
        #expect(try !allows(match { $0.serviceAccounts = [wrongNamespace] }, c))
        #expect(try !allows(match { $0.notServiceAccounts = [wrongNamespace, sleep] }, c))
        #expect(try allows(match { $0.notServiceAccounts = [wrongNamespace] }, c))
    }

    @Test func sourceAndDestinationCIDRs() throws {
        let c = conn(from: "10.1.2.3", to: "192.168.7.9")
        #expect(try allows(match { $0.sourceIps = [cidr("10.0.0.0/8")] }, c))
        #expect(try allows(match { $0.sourceIps = [cidr("10.1.2.3")] }, c))
        #expect(try !allows(match { $0.sourceIps = [cidr("10.1.2.4/32")] }, c))
        #expect(try !allows(match { $0.notSourceIps = [cidr("10.1.0.0/16")] }, c))
        #expect(try allows(match { $0.notSourceIps = [cidr("10.2.0.0/16")] }, c))
        #expect(try allows(match { $0.destinationIps = [cidr("192.168.0.0/16")] }, c))
        #expect(try !allows(match { $0.notDestinationIps = [cidr("192.168.7.0/24")] }, c))
        // IPv6, and an IPv4 connection never matches an IPv6 block.
        let v6 = conn(from: "fd00::1:5", to: "fd00::2")
        #expect(try allows(match { $0.sourceIps = [cidr("fd00::/64")] }, v6))
        #expect(try !allows(match { $0.sourceIps = [cidr("fd01::/64")] }, v6))
        #expect(try !allows(match { $0.sourceIps = [cidr("::/0")] }, c))
        #expect(try allows(match { $0.sourceIps = [cidr("0.0.0.0/0")] }, c))
        // A dual-stack socket's IPv4-mapped peer is treated as IPv4.
        let mapped = conn(from: "::ffff:10.1.2.3")
        #expect(try allows(match { $0.sourceIps = [cidr("10.0.0.0/8")] }, mapped))
    }

    @Test func destinationPorts() throws {
        let c = conn(port: 9090)
        #expect(try allows(match { $0.destinationPorts = [80, 9090] }, c))
        #expect(try !allows(match { $0.destinationPorts = [80] }, c))
        #expect(try !allows(match { $0.notDestinationPorts = [9090] }, c))
        #expect(try allows(match { $0.notDestinationPorts = [8080] }, c))
    }

    @Test func fieldsOfOneMatchAreANDed() throws {
        let c = conn(port: 9090, identity: "spiffe://cluster.local/ns/client/sa/sleep")
        #expect(try allows(match { $0.principals = [sm("*/sa/sleep")]; $0.destinationPorts = [9090] }, c))
        #expect(try !allows(match { $0.principals = [sm("*/sa/sleep")]; $0.destinationPorts = [80] }, c))
        #expect(try !allows(match { $0.principals = [sm("*/sa/sleep")]; $0.notDestinationPorts = [9090] }, c))
    }

    @Test func matchesORClausesANDRulesOR() throws {
        let c = conn(port: 9090, identity: "spiffe://cluster.local/ns/client/sa/sleep")
        let fromSleep = match { $0.principals = [sm("*/sa/sleep")] }
        let fromOther = match { $0.principals = [sm("*/sa/other")] }
        let toPort80 = match { $0.destinationPorts = [80] }
        let toPort9090 = match { $0.destinationPorts = [9090] }
        func allows(_ rules: Istio_Security_Rule...) throws -> Bool {
            try set(policy("server/p", rules: rules)).evaluate(c, to: server).isAllowed
        }
        // Clause = any of its matches.
        #expect(try allows(rule([fromOther, fromSleep])))
        // Rule = every clause.
        #expect(try allows(rule([fromSleep], [toPort9090])))
        #expect(try !allows(rule([fromSleep], [toPort80])))
        // Policy = any rule.
        #expect(try allows(rule([fromOther]), rule([toPort9090])))
        #expect(try !allows(rule([fromOther]), rule([toPort80])))
    }

    @Test func emptyMatchIsSkippedEmptyClauseMatches() throws {
        let c = conn()
        // A clause whose only match sets no field does not match.
        #expect(try !set(policy("server/p", rules: [rule([Istio_Security_Match()])])).evaluate(c, to: server).isAllowed)
        // ... but a clause with an empty match beside a real one can still match through the other.
        let anyone = match { $0.principals = [sm("*")] }
        #expect(try set(policy("server/p", rules: [rule([Istio_Security_Match(), anyone])])).evaluate(c, to: server).isAllowed)
        // A clause with no matches at all counts as matching, so this rule matches everything.
        #expect(try set(policy("server/p", rules: [rule([])])).evaluate(c, to: server).isAllowed)
        // A rule with no clauses matches too (every clause of none matched).
        #expect(try set(policy("server/p", rules: [Istio_Security_Rule()])).evaluate(c, to: server).isAllowed)
    }

    @Test func strictPeerAuthenticationAsIstiodConvertsIt() throws {
        // PeerAuthentication STRICT → DENY not_principals presence in the root namespace.
        let strict = policy(
            "istio-system/istio_converted_static_strict", .deny, scope: .global,
            rules: [rule([match { $0.notPrincipals = [sm("*")] }])])
        let s = try set(strict)
        let d = s.evaluate(conn(identity: nil), to: server)
        #expect(d.reason == "explicitly denied by: istio-system/istio_converted_static_strict")
        #expect(s.evaluate(conn(), to: server).isAllowed)
    }

    @Test func evaluationFromTheWireFormat() throws {
        // The policy travels as bytes over xDS; decode and evaluate.
        let wire = try policy(
            "server/p", rules: [rule([match { $0.sourceIps = [cidr("10.0.0.0/24")]; $0.destinationPorts = [8080] }])]
        ).serializedBytes() as [UInt8]
        let decoded = try Istio_Security_Authorization(serializedBytes: wire)
        let s = try set(decoded)
        #expect(s.evaluate(conn(from: "10.0.0.9"), to: server).isAllowed)
        #expect(!s.evaluate(conn(from: "10.0.1.9"), to: server).isAllowed)
    }
}

// MARK: - Malformed resources and addresses

@Suite("L4 authorization: malformed input")
struct L4MalformedTests {
    private func error(_ p: Istio_Security_Authorization) -> L4PolicyError? {
        do {
            _ = try L4Policy(p)
            return nil
        } catch {
            return error
        }
    }

    @Test func malformedResourcesAreRefusedWithTheFieldPath() {
        var badAddress = Istio_Security_Address()
        badAddress.address = Data([10, 0, 0])
        badAddress.length = 8
        let e1 = error(policy("server/p", rules: [rule([], [match { $0.sourceIps = [cidr("10.0.0.0/8"), badAddress] }])]))
        #expect(e1?.field == "rules[0].clauses[1].matches[0].sourceIps[1]")
        #expect(e1?.description.contains("server/p") == true)

        var longPrefix = cidr("10.0.0.0/8")
        longPrefix.length = 33
        #expect(error(policy("server/p", rules: [rule([match { $0.notDestinationIps = [longPrefix] }])]))?.field
            == "rules[0].clauses[0].matches[0].notDestinationIps[0]")

        #expect(error(policy("server/p", rules: [rule([match { $0.destinationPorts = [70000] }])]))?.reason
            == "port 70000 is above 65535")
        #expect(error(policy("server/p", rules: [rule([match { $0.principals = [Istio_Security_StringMatch()] }])]))?.field
            == "rules[0].clauses[0].matches[0].principals[0]")

        var unknownAction = policy("server/p")
        unknownAction.action = .UNRECOGNIZED(7)
        #expect(error(unknownAction)?.field == "action")
        var unknownScope = policy("server/p")
        unknownScope.scope = .UNRECOGNIZED(9)
        #expect(error(unknownScope)?.field == "scope")
        #expect(error(policy("server/p")) == nil)
    }

    @Test func aRefusedResourceLeavesTheSetUnchanged() throws {
        var s = try set(policy("server/p"))
        var bad = policy("server/p", rules: [rule([match { $0.destinationPorts = [1 << 20] }])])
        bad.scope = .global
        #expect(throws: L4PolicyError.self) { try s.insert(bad) }
        #expect(s["server/p"]?.scope == .namespace)
        #expect(!s.evaluate(conn(), to: server).isAllowed)
    }

    @Test func cidrParsingAndContainment() {
        #expect(CIDRBlock("10.0.0.0/8")?.contains(IPAddressBytes("10.255.1.1")!) == true)
        #expect(CIDRBlock("10.1.2.3/8")?.contains(IPAddressBytes("10.9.9.9")!) == true)  // host bits ignored
        #expect(CIDRBlock("10.0.0.0/33") == nil)
        #expect(CIDRBlock("10.0.0.0/") == nil)
        #expect(CIDRBlock("10.0.0.0/+8") == nil)
        #expect(CIDRBlock("host.example/8") == nil)
        #expect(CIDRBlock("192.168.1.0/23")?.contains(IPAddressBytes("192.168.0.200")!) == true)
        #expect(CIDRBlock("192.168.1.0/24")?.contains(IPAddressBytes("192.168.0.200")!) == false)
        #expect(CIDRBlock("fe00::/7")?.contains(IPAddressBytes("fcff::1")!) == false)
        #expect(CIDRBlock("fc00::/7")?.contains(IPAddressBytes("fdff::1")!) == true)
        #expect(CIDRBlock("::/0")?.contains(IPAddressBytes("1.2.3.4")!) == false)
        #expect(IPAddressBytes("::ffff:1.2.3.4")?.canonical == IPAddressBytes("1.2.3.4"))
        #expect(IPAddressBytes("fd00::1")?.description == "fd00::1")
        #expect(conn(from: "fd00::1", sourcePort: 5, to: "10.0.0.1", port: 80, identity: nil).description
            == "[fd00::1]:5(None)->10.0.0.1:80")
    }
}

// MARK: - The HBONE hook

@Suite("L4 authorization: HBONE authorizer")
struct L4AuthorizerTests {
    @Test func hboneTunnelsAreDecidedForTheirDestinationWorkload() async throws {
        let onlyFrontend = rule([match { $0.principals = [sm("cluster.local/ns/shop/sa/frontend")] }])
        let authorizer = L4Authorizer(policies: try set(policy("shop/frontend-only", rules: [onlyFrontend]))) { ip in
            ip == IPAddressBytes("10.0.0.5") ? L4Destination(namespace: "shop") : nil
        }
        func info(_ identity: String, to destination: String) throws -> HBONEConnectionInfo {
            let target = try SocketAddress(ipAddress: destination, port: 8080)
            return HBONEConnectionInfo(
                peerIdentity: try SpiffeID(parsing: identity), source: try SocketAddress(ipAddress: "10.0.0.1", port: 40000),
                peerAddress: try SocketAddress(ipAddress: "10.0.0.1", port: 50000), destination: target,
                target: .address(target))
        }
        let hook = authorizer.hboneAuthorizer
        #expect(await hook(try info("spiffe://cluster.local/ns/shop/sa/frontend", to: "10.0.0.5")) == .allow)
        #expect(await hook(try info("spiffe://cluster.local/ns/shop/sa/other", to: "10.0.0.5"))
            == .deny(reason: "allow policies exist, but none allowed"))
        // Another workload (namespace unknown here): the shop policy does not apply.
        #expect(await hook(try info("spiffe://cluster.local/ns/shop/sa/other", to: "10.0.0.6")) == .allow)
        // Policies change with xDS.
        authorizer.update { $0.remove(key: "shop/frontend-only") }
        #expect(await hook(try info("spiffe://cluster.local/ns/shop/sa/other", to: "10.0.0.5")) == .allow)
    }
}
