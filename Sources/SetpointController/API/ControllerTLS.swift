import Foundation
public import HummingbirdCore
public import Logging
public import NIOCore
import NIOSSL
import SetpointCore
import SwiftASN1
import Synchronization
import X509

/// The API's certificate and key, read from files and replaceable while the server runs: `setpoint controller` reads
/// them again on SIGHUP, and every connection made after that uses the new pair (open ones finish with the old one).
/// A pair that cannot be used — a file missing or unreadable, not PEM, a key that does not belong to the certificate —
/// leaves the pair in use as it was.
public final class TLSCertificateFiles: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let current: Mutex<Loaded>

    struct Loaded: Sendable {
        var context: NIOSSLContext
        var notAfter: Date
        var subject: String
        var fingerprint: String
    }

    /// Reads the pair (the certificate file may hold the chain: the server's certificate first, then intermediates).
    public init(certificate: String, key: String) throws {
        certificatePath = certificate
        keyPath = key
        current = Mutex(try Self.load(certificate: certificate, key: key))
    }

    /// Reads the files again; on an error the pair in use stays.
    public func reload() throws {
        let fresh = try Self.load(certificate: certificatePath, key: keyPath)
        current.withLock { $0 = fresh }
    }

    /// The context new connections get.
    var context: NIOSSLContext { current.withLock { $0.context } }

    /// When the certificate in use expires.
    public var notAfter: Date { current.withLock { $0.notAfter } }

    /// The certificate in use in a line: its subject, its expiry and its SHA-256 fingerprint.
    public var summary: String {
        current.withLock { "\($0.subject), valid until \(Timestamp.seconds($0.notAfter)), sha256 \($0.fingerprint)" }
    }

    static func load(certificate: String, key: String) throws -> Loaded {
        func read(_ path: String, _ what: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TLSFilesError(
                    "the TLS \(what) file \(path) cannot be read (missing, or not readable by this user)"
                )
            }
            return String(decoding: data, as: UTF8.self)
        }
        let certificatePEM = try read(certificate, "certificate")
        let keyPEM = try read(key, "key")
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)) } catch {
            throw TLSFilesError("the TLS certificate file \(certificate) holds no PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSFilesError("the TLS certificate file \(certificate) holds no PEM certificate")
        }
        do { privateKey = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem) } catch {
            throw TLSFilesError(
                "the TLS key file \(key) holds no PEM private key (an encrypted key is not read): \(error)"
            )
        }
        // BoringSSL takes a key of another certificate without a word and fails every handshake: check it here.
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: try chain[0].toDERBytes()) } catch {
            throw TLSFilesError("the TLS certificate file \(certificate) cannot be parsed: \(error)")
        }
        // The key's own block (openssl ecparam writes an `EC PARAMETERS` block before it).
        let parsedKey: Certificate.PrivateKey
        do {
            guard
                let block = try PEMDocument.parseMultiple(pemString: keyPEM).first(where: {
                    $0.discriminator.hasSuffix("PRIVATE KEY")
                })
            else { throw TLSFilesError("no PRIVATE KEY block") }
            parsedKey = try Certificate.PrivateKey(pemDocument: block)
        } catch {
            throw TLSFilesError(
                "the TLS key file \(key) holds a key Setpoint cannot check against the certificate (\(error)): give an "
                    + "unencrypted RSA, ECDSA (P-256, P-384, P-521) or Ed25519 key in PEM"
            )
        }
        if parsedKey.publicKey != leaf.publicKey {
            throw TLSFilesError(
                "the TLS key file \(key) does not belong to the certificate in \(certificate) (\(leaf.subject)): "
                    + "give the key the certificate was made for"
            )
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            throw TLSFilesError("the TLS pair \(certificate) and \(key) is refused by BoringSSL: \(error)")
        }
        let fingerprint = SetpointCore.SHA256.hexString(SetpointCore.SHA256.hash(try chain[0].toDERBytes()))
        return Loaded(
            context: context,
            notAfter: leaf.notValidAfter,
            subject: leaf.subject.description,
            fingerprint: fingerprint
        )
    }
}

/// Why a TLS pair was not used, naming its files.
public struct TLSFilesError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A child channel that puts TLS in front of the base channel with the context ``TLSCertificateFiles`` holds when
/// the connection is accepted — HummingbirdTLS's `TLSChannel` fixes its context at start, which would need a restart to
/// rotate a certificate.
struct ReloadingTLSChannel<Base: HTTPChannelHandler>: HTTPChannelHandler {
    typealias Value = Base.Value
    let base: Base
    let certificates: TLSCertificateFiles

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = certificates.context
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async { await base.handle(value: value, logger: logger) }

    var responder: HTTPChannelHandler.Responder { base.responder }
}
