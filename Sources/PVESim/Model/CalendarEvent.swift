import Foundation

/// The subset of systemd-style calendar events PVE backup schedules use (`sun 01:00`, `mon..fri 22:30`, `daily`,
/// `*/30`, `02:00`), enough to report a job's `next-run` (UTC).
enum CalendarEvent {
    static let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    static func nextRun(_ schedule: String, after now: Double) -> Int? {
        var text = schedule.trimmingCharacters(in: .whitespaces).lowercased()
        switch text {
        case "minutely": text = "*:*"
        case "hourly": text = "*:00"
        case "daily": text = "00:00"
        case "weekly": text = "mon 00:00"
        default: break
        }
        var allowedDays = Set(0..<7)
        var time = text
        if let space = text.firstIndex(of: " ") {
            allowedDays = []
            for part in text[..<space].split(separator: ",") {
                let range = part.components(separatedBy: "..")
                guard let a = days.firstIndex(of: String(range[0].prefix(3))) else { return nil }
                let b = range.count == 2 ? days.firstIndex(of: String(range[1].prefix(3))) ?? a : a
                var d = a
                while true {
                    allowedDays.insert(d)
                    if d == b { break }
                    d = (d + 1) % 7
                }
            }
            time = String(text[text.index(after: space)...])
        }
        var step = 0
        var hour: Int?
        var minute: Int?
        if time.hasPrefix("*/"), let n = Int(time.dropFirst(2)) {
            step = n
        } else {
            let hm = time.split(separator: ":")
            guard hm.count == 2 || hm.count == 1 else { return nil }
            hour = hm[0] == "*" ? nil : Int(hm[0])
            minute = hm.count == 2 ? (hm[1] == "*" ? nil : Int(hm[1])) : 0
            if hm[0] != "*" && hour == nil { return nil }
        }
        var t = (Int(now) / 60 + 1) * 60
        for _ in 0..<(8 * 24 * 60) {
            let day = ((t / 86_400) + 4) % 7  // 1970-01-01 was a Thursday
            let h = (t % 86_400) / 3600
            let m = (t % 3600) / 60
            let matches =
                allowedDays.contains(day)
                && (step > 0 ? m % step == 0 : (hour == nil || hour == h) && (minute == nil || minute == m))
            if matches { return t }
            t += 60
        }
        return nil
    }
}
