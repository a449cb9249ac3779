import Foundation

/// Why a token was refused.
public enum JWTError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not three base64url parts, or a part is not JSON.
    case malformed(String)
    /// `alg` is missing, `none`, or not ES256/RS256.
    case unsupportedAlgorithm(String)
    /// No key of the set matches the token's `kid` and `alg`.
    case unknownKey(String)
    /// The signature does not verify.
    case badSignature
    /// `exp` is missing or in the past.
    case expired(String)
    /// `nbf` is in the future.
    case notYetValid(String)
    /// `iss` is not the configured issuer.
    case wrongIssuer(String)
    /// `aud` holds none of the accepted audiences.
    case wrongAudience(String)
    /// The claims lack what the authenticator needs.
    case missingClaim(String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed token: \(reason)"
        case .unsupportedAlgorithm(let alg): return "token algorithm \(alg) is not accepted (ES256, RS256)"
        case .unknownKey(let reason): return "no verification key for the token: \(reason)"
        case .badSignature: return "token signature does not verify"
        case .expired(let reason): return "token expired: \(reason)"
        case .notYetValid(let reason): return "token not yet valid: \(reason)"
        case .wrongIssuer(let issuer): return "token issuer \(issuer) is not trusted"
        case .wrongAudience(let audiences): return "token audience \(audiences) does not include the required audience"
        case .missingClaim(let claim): return "token lacks claim \(claim)"
        }
    }
}

/// Verifies compact-serialized JWS tokens (RFC 7515/7519) signed with ES256 or RS256.
public struct JWTVerifier: Sendable {
    /// The required `iss`.
    public var issuer: String
    /// Tokens must name at least one of these in `aud`.
    public var audiences: Set<String>
    /// Keys that may have signed tokens.
    public var keySet: JSONWebKeySet
    /// Tolerated clock difference for `exp` and `nbf`.
    public var leeway: Duration

    /// Creates a verifier.
    public init(
        issuer: String, audiences: Set<String> = [MeshCAConstants.tokenAudience], keySet: JSONWebKeySet,
        leeway: Duration = .seconds(30)
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.keySet = keySet
        self.leeway = leeway
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
        var crit: [String]?
    }

    /// Verifies the signature and the registered claims and returns the claims.
    public func verify(_ token: String, now: Date = Date()) throws(JWTError) -> JWTClaims {
        guard token.utf8.count <= MeshCAConstants.maximumTokenSize else {
            throw .malformed("longer than \(MeshCAConstants.maximumTokenSize) bytes")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected 3 dot-separated parts, found \(parts.count)") }
        guard let headerBytes = Base64URL.decode(parts[0]),
            let claimBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw .malformed("a part is not unpadded base64url") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw .malformed("header is not a JSON object")
        }
        guard let algText = header.alg else { throw .unsupportedAlgorithm("(missing)") }
        guard let algorithm = JWTVerificationKey.Algorithm(rawValue: algText) else {
            throw .unsupportedAlgorithm(algText)
        }
        if let critical = header.crit, !critical.isEmpty {
            throw .malformed("critical header parameters \(critical) are not understood")
        }
        // Only keys of the token's algorithm are tried: an RSA key never verifies an ES256 token.
        let candidates = keySet.keys.filter { key in
            key.algorithm == algorithm && (header.kid == nil || key.keyID == nil || key.keyID == header.kid)
        }
        guard !candidates.isEmpty else {
            throw .unknownKey("alg \(algText), kid \(header.kid ?? "(none)")")
        }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard candidates.contains(where: { $0.verify(signature: signature, signingInput: signingInput) }) else {
            throw .badSignature
        }
        let claims: JWTClaims
        do {
            claims = try JSONDecoder().decode(JWTClaims.self, from: Data(claimBytes))
        } catch {
            throw .malformed("claims are not a JSON object of the expected shape")
        }
        let nowSeconds = now.timeIntervalSince1970
        let slack = leeway.timeInterval
        guard let expiry = claims.expiresAt else { throw .expired("no exp claim") }
        guard nowSeconds < expiry + slack else {
            throw .expired("exp \(Int64(expiry)) is before now \(Int64(nowSeconds))")
        }
        if let notBefore = claims.notBefore, nowSeconds + slack < notBefore {
            throw .notYetValid("nbf \(Int64(notBefore)) is after now \(Int64(nowSeconds))")
        }
        guard claims.issuer == issuer else { throw .wrongIssuer(claims.issuer ?? "(missing)") }
        guard claims.audiences.contains(where: audiences.contains) else {
            throw .wrongAudience(claims.audiences.isEmpty ? "(missing)" : claims.audiences.joined(separator: ","))
        }
        return claims
    }
}
