import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SetpointCore
import SetpointState

/// The approvals page's HTML: server-rendered, no script anywhere, one stylesheet from the controller itself, every
/// value escaped. The Content-Security-Policy forbids scripts of any origin (inline ones too), frames, and forms that
/// post elsewhere; pages work the same with JavaScript off.
enum UIHTML {
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A query string or path segment, percent-encoded.
    static func component(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? ""
    }

    /// Who is signed in, and the CSRF token their forms carry.
    struct Viewer {
        var identity: Tokens.Identity
        var csrf: String
    }

    /// A whole page: the header with the sections and who is signed in (with a sign-out form), a notice, the body.
    static func page(
        _ title: String,
        viewer: Viewer?,
        section: String? = nil,
        notice: (kind: String, text: String)? = nil,
        refreshSeconds: Int? = nil,
        body: String
    ) -> String {
        var nav = ""
        if let viewer {
            let links = [
                ("plans", "Plans"), ("resources", "Resources"), ("audit", "Audit log"), ("backups", "Backups"),
                ("operations", "Operations"),
            ]
            nav =
                "<nav>"
                + links.map { id, label in
                    "<a href=\"/ui/\(id)\"\(section == id ? " aria-current=\"page\"" : "")>\(label)</a>"
                }.joined()
                + "<span class=\"who\">\(escape(viewer.identity.email)) · \(viewer.identity.role.rawValue)</span>"
                + "<form method=\"post\" action=\"/ui/logout\" class=\"inline\">\(csrfField(viewer.csrf))"
                + "<button type=\"submit\">Sign out</button></form></nav>"
        }
        let box = notice.map { "<p class=\"notice \($0.kind)\" role=\"status\">\(escape($0.text))</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · Setpoint</title>\(refreshSeconds.map { "\n<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? "")
            <link rel="stylesheet" href="/ui/style.css">
            </head>
            <body>
            <header><a class="brand" href="/ui/plans">Setpoint</a>\(nav)</header>
            <main>
            <h1>\(escape(title))</h1>
            \(box)
            \(body)
            </main>
            </body>
            </html>

            """
    }

    static func csrfField(_ token: String) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(token))\">"
    }

    /// A table: the header row, then rows of already-escaped cells.
    static func table(_ headers: [String], _ rows: [[String]], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(escape(empty))</p>" }
        return "<table><thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>"
    }

    static func badge(_ text: String) -> String {
        "<span class=\"badge \(escape(text))\">\(escape(text))</span>"
    }

    /// The page's answer: HTML with the security headers (the API's middleware adds `Cache-Control: no-store`).
    static func response(_ status: HTTPResponse.Status, _ html: String, cookies: [String] = []) -> Response {
        var headers = securityHeaders()
        headers[.contentType] = "text/html; charset=utf-8"
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 to `location` (after a form post, or to the sign-in form).
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers = securityHeaders()
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    static func securityHeaders() -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return headers
    }

    /// A cookie only this site's pages send back, never to scripts, only over HTTPS when the API serves it, and never
    /// on requests from other sites.
    /// `secure` is false only when the API serves plain HTTP (loopback, or `--insecure-http`): a browser would not send
    /// a Secure cookie back over it.
    static func cookie(_ name: String, _ value: String, maxAge: Int, secure: Bool = true) -> String {
        "\(name)=\(value); Path=/ui; Max-Age=\(max(0, maxAge)); HttpOnly\(secure ? "; Secure" : ""); SameSite=Strict"
    }

    static let stylesheet = """
        :root { color-scheme: light; --fg: #1d2329; --muted: #5b6670; --line: #d8dee4; --accent: #1f5fa8; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); background: #f6f8fa; }
        header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #1d2329; }
        header a, header .who { color: #e8edf2; text-decoration: none; }
        header .brand { font-weight: bold; letter-spacing: .02em; }
        nav { display: flex; align-items: center; gap: 1rem; flex: 1; }
        nav a[aria-current] { border-bottom: 2px solid #7fb2ec; }
        nav .who { margin-left: auto; color: #aab6c2; }
        main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1.5rem; }
        h1 { font-size: 1.4rem; margin: 0 0 1rem; }
        h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
        table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef2f6; font-weight: 600; }
        td ul { margin: 0; padding-left: 1.1rem; }
        pre { background: #fff; border: 1px solid var(--line); padding: .8rem; overflow-x: auto; font: 13px/1.4 "DejaVu Sans Mono", monospace; }
        .badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .85em; background: #e3e8ee; }
        .badge.pending, .badge.waiting, .badge.restart { background: #fff1c2; }
        .badge.approved, .badge.applied, .badge.in-sync, .badge.succeeded, .badge.hot { background: #d5f2dc; }
        .badge.rejected, .badge.failed, .badge.dataLoss, .badge.replace, .badge.stale { background: #fbd9d6; }
        .notice { padding: .6rem .8rem; border-radius: .3rem; background: #e6f0fb; border: 1px solid #b8d2ef; }
        .notice.error { background: #fbe3e1; border-color: #efb5ae; }
        .notice.ok { background: #def4e3; border-color: #a9dcb5; }
        .empty, .muted { color: var(--muted); }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
        dt { color: var(--muted); }
        form.inline { display: inline; margin: 0; }
        form.decide { background: #fff; border: 1px solid var(--line); padding: .8rem; margin: .8rem 0; }
        form.filters { display: flex; gap: .6rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
        label { display: block; font-size: .9em; color: var(--muted); }
        input, textarea, select { font: inherit; padding: .3rem .4rem; border: 1px solid #b7c1cb; border-radius: .25rem; }
        textarea { width: 100%; min-height: 3rem; }
        button { font: inherit; padding: .35rem .9rem; border-radius: .25rem; border: 1px solid #1f4f8a; background: var(--accent); color: #fff; cursor: pointer; }
        button.reject { background: #a8322a; border-color: #7d231d; }
        header button { background: transparent; border-color: #56616b; padding: .15rem .6rem; }
        """
}
