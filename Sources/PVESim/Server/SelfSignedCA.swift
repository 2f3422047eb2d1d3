import Crypto
import Foundation
import SwiftASN1
import X509

/// The simulator's TLS material: a CA (kept in a directory across restarts when asked) and a server certificate for
/// `localhost`, `127.0.0.1` and `::1` it signs — as PVE's nodes carry certificates signed by the cluster CA.
public struct SelfSignedCA: Sendable {
    public let caPEM: String
    public let certificatePEM: String
    public let privateKeyPEM: String
    /// `sha256//BASE64` of the server's public key (libcurl's `CURLOPT_PINNEDPUBLICKEY` form).
    public let publicKeyPin: String

    /// - Parameter directory: where `ca.pem` and `ca-key.pem` live; created when missing, reused when present.
    public static func make(directory: String? = nil, names: [String] = ["localhost"]) throws -> SelfSignedCA {
        let now = Date()
        let caKey: P256.Signing.PrivateKey
        let caCertificate: Certificate
        let caName: DistinguishedName
        if let directory, let keyPEM = try? String(contentsOfFile: directory + "/ca-key.pem", encoding: .utf8),
            let certPEM = try? String(contentsOfFile: directory + "/ca.pem", encoding: .utf8)
        {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
            caCertificate = try Certificate(pemEncoded: certPEM)
            caName = caCertificate.subject
        } else {
            // Each CA has a name of its own (as PVE's cluster CAs carry the cluster's UUID), so a client given
            // another CA fails to find the issuer instead of trying a wrong key.
            caName = try DistinguishedName {
                OrganizationName("Setpoint pve-sim")
                OrganizationalUnitName(UUID().uuidString.lowercased())
                CommonName("pve-sim Cluster CA")
            }
            caKey = P256.Signing.PrivateKey()
            caCertificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
                issuer: caName,
                subject: caName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                },
                issuerPrivateKey: .init(caKey)
            )
            if let directory {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try caKey.pemRepresentation.write(toFile: directory + "/ca-key.pem", atomically: true, encoding: .utf8)
                try caCertificate.serializeAsPEM().pemString.write(
                    toFile: directory + "/ca.pem",
                    atomically: true,
                    encoding: .utf8
                )
            }
        }
        let key = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(2 * 365 * 86_400),
            issuer: caName,
            subject: try DistinguishedName { CommonName(names.first ?? "localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(
                    names.map { GeneralName.dnsName($0) } + [
                        .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                        .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
                    ]
                )
            },
            issuerPrivateKey: .init(caKey)
        )
        let pin = "sha256//" + Data(SHA256.hash(data: key.publicKey.derRepresentation)).base64EncodedString()
        return SelfSignedCA(
            caPEM: try caCertificate.serializeAsPEM().pemString,
            certificatePEM: try leaf.serializeAsPEM().pemString,
            privateKeyPEM: key.pemRepresentation,
            publicKeyPin: pin
        )
    }
}
