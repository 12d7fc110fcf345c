use std::time::Duration;

use super::StringValidator;

struct GoDuration;

/// A Terraform timeout duration in Go's format: `30s`, `45m`, `2h`, `1h30m`.
pub fn duration() -> impl StringValidator {
    GoDuration
}

/// Parses Go's duration format (`ns`, `us`, `ms`, `s`, `m`, `h` units, fractions allowed,
/// e.g. `1.5h`, `1h30m`); negative durations are refused.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * secs;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).ok()
}

impl StringValidator for GoDuration {
    fn description(&self) -> String {
        "a duration such as \"30m\", \"2h\" or \"1h30m\"".to_owned()
    }
    fn rejection(&self, value: &str) -> Option<String> {
        parse_go_duration(value)
            .is_none()
            .then(|| format!("is {value:?}; it must be {}.", self.description()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_terraform_timeouts() {
        assert_eq!(parse_go_duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5_400)));
        assert_eq!(
            parse_go_duration("1.5s"),
            Some(Duration::from_millis(1_500))
        );
        for bad in ["", "10", "-5m", "5 minutes", "h", "1x"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }
}
