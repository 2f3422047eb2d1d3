public import FoundationEssentials

/// The one clock Setpoint reads. Everything that needs the time or waits gets it injected:
/// - `now`, wall-clock time, for what people and other systems read: audit times, cron schedules (across DST), RPO
///   ages, lease expiry written to the state;
/// - `elapsed` and `sleep(for:)`, monotonic, for durations, deadlines, backoff and polling — never moved by NTP.
///
/// `SystemClock` in production; `ManualClock` (SetpointTesting) in tests, which advances both at once, so
/// scheduling, backoff and expiry are tested in virtual time without sleeping.
///
/// ```swift
/// let started = clock.elapsed
/// try await clock.sleep(for: .milliseconds(200))
/// let took = clock.elapsed - started
/// let record = Timestamp.milliseconds(clock.now)      // "2026-12-07T10:00:00.123Z"
/// ```
public protocol SetpointClock: Sendable {
    /// Wall-clock time now.
    var now: Date { get }
    /// Monotonic time since an arbitrary origin fixed for the clock's life: subtract two readings for a duration.
    var elapsed: Duration { get }
    /// Waits `duration` of monotonic time (throws `CancellationError` when the task is cancelled).
    func sleep(for duration: Duration) async throws
}

/// The machine's clocks: `Date.now` and `ContinuousClock`.
public struct SystemClock: SetpointClock {
    private let origin = ContinuousClock.now

    public init() {}

    public var now: Date { Date.now }
    public var elapsed: Duration { ContinuousClock.now - origin }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

extension SetpointClock {
    /// Waits until the monotonic reading reaches `deadline` (at once when it has).
    public func sleep(until deadline: Duration) async throws {
        let left = deadline - elapsed
        if left > .zero { try await sleep(for: left) }
    }
}

/// Times as text, formatted in one place: ISO 8601 in UTC.
public enum Timestamp {
    /// Whole seconds: `2026-12-07T10:00:00Z` (plans' `createdAt`, API times).
    public static func seconds(_ date: Date) -> String { date.formatted(secondsStyle) }
    /// Milliseconds: `2026-12-07T10:00:00.123Z` (audit records, logs, the lease).
    public static func milliseconds(_ date: Date) -> String {
        // The style truncates, and a time like …00.123 is …00.12299… as a Double: format the middle of the nearest
        // millisecond so it prints as that millisecond.
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        return Date(timeIntervalSince1970: (ms + 0.5) / 1000).formatted(millisecondsStyle)
    }
    /// Reads either form (and any other ISO 8601 date-time with an offset); nil for other text.
    public static func parse(_ text: String) -> Date? {
        (try? millisecondsStyle.parse(text)) ?? (try? secondsStyle.parse(text))
    }

    private static let secondsStyle = Date.ISO8601FormatStyle()
    private static let millisecondsStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
