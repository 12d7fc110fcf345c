//! Logs as Terraform reads them: one JSON object per line on stderr with `@level`,
//! `@message`, `@timestamp` (Go layout `2006-01-02T15:04:05.000000Z`) and `@module`, plus
//! the fields of the event and of its spans (`tf_rpc`, `tf_type_name`, ...). Terraform
//! shows them when `TF_LOG` or `TF_LOG_PROVIDER` is set; the level comes from
//! `TF_LOG_PROVIDER`, else `TF_LOG`, and logging is off when neither is set.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as J};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// The `@module` Terraform shows for this provider's lines.
const MODULE: &str = "provider.terraform-provider-rdsenc";

/// The level for a `TF_LOG`-style value: Terraform's level names (any case), `JSON` (which
/// Terraform treats as TRACE), `off`; any other non-empty value means TRACE, as in
/// Terraform itself.
pub(crate) fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let raw = provider
        .filter(|s| !s.trim().is_empty())
        .or(global.filter(|s| !s.trim().is_empty()));
    let Some(raw) = raw else {
        return LevelFilter::OFF;
    };
    match raw.trim().to_ascii_uppercase().as_str() {
        "ERROR" => LevelFilter::ERROR,
        "WARN" => LevelFilter::WARN,
        "INFO" => LevelFilter::INFO,
        "DEBUG" => LevelFilter::DEBUG,
        "OFF" => LevelFilter::OFF,
        _ => LevelFilter::TRACE,
    }
}

/// Installs the stderr JSON logger (once; later calls do nothing).
pub(crate) fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    // The transport crates are chatty below INFO; they only matter when tracing everything.
    let quiet = if level == LevelFilter::TRACE {
        LevelFilter::TRACE
    } else {
        level.min(LevelFilter::INFO)
    };
    let mut filter = Targets::new()
        .with_default(level)
        .with_target("h2", quiet)
        .with_target("hyper", quiet)
        .with_target("hyper_util", quiet)
        .with_target("tower", quiet)
        .with_target("rustls", quiet)
        .with_target("tonic", quiet);
    // Never below DEBUG for the SDK's request logging, even under TF_LOG=trace: at TRACE it
    // prints request bodies, and DMS endpoint bodies carry the database password.
    for target in crate::aws::SDK_LOG_TARGETS {
        filter = filter.with_target(*target, level.min(LevelFilter::DEBUG));
    }
    let _ = tracing_subscriber::registry()
        .with(TerraformJson::new(std::io::stderr).with_filter(filter))
        .try_init();
}

/// The layer writing Terraform's JSON lines to `W` (stderr in production).
pub(crate) struct TerraformJson<W> {
    make_writer: W,
}

impl<W> TerraformJson<W> {
    /// A layer writing to what `make_writer` returns.
    pub(crate) fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// Span fields kept in the span's extensions.
struct SpanFields(Map<String, J>);

struct JsonVisitor<'a>(&'a mut Map<String, J>);

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), J::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), J::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), J::from(value));
    }
}

impl<S, W> Layer<S> for TerraformJson<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id)
            && let Some(f) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut JsonVisitor(&mut f.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        // Outer spans first, so inner spans and the event itself win on name clashes.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    line.extend(f.0.clone());
                }
            }
        }
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        let message = fields.remove("message").unwrap_or(J::String(String::new()));
        line.extend(fields);
        line.insert(
            "@level".into(),
            J::from(level_name(*event.metadata().level())),
        );
        line.insert("@message".into(), message);
        line.insert("@module".into(), J::from(MODULE));
        line.insert("@timestamp".into(), J::from(timestamp(SystemTime::now())));
        let mut out = serde_json::to_vec(&J::Object(line)).unwrap_or_default();
        out.push(b'\n');
        // One write per line so concurrent events never interleave mid-line.
        let _ = self.make_writer.make_writer().write_all(&out);
    }
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `2006-01-02T15:04:05.000000Z` in UTC.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_use_the_go_layout_with_microseconds() {
        let t = UNIX_EPOCH + Duration::from_micros(1_136_214_245_000_123);
        assert_eq!(timestamp(t), "2006-01-02T15:04:05.000123Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&timestamp(leap)[..10], "2000-02-29");
    }

    #[test]
    fn provider_level_wins_and_unset_means_off() {
        assert_eq!(level_from_env(None, None), LevelFilter::OFF);
        assert_eq!(
            level_from_env(Some("debug"), Some("ERROR")),
            LevelFilter::DEBUG
        );
        assert_eq!(level_from_env(None, Some("WARN")), LevelFilter::WARN);
        assert_eq!(level_from_env(Some(""), Some("INFO")), LevelFilter::INFO);
        assert_eq!(level_from_env(None, Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, Some("1")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some("off"), Some("TRACE")), LevelFilter::OFF);
    }

    #[test]
    fn events_become_terraform_json_lines_with_span_fields() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let sub = tracing_subscriber::registry()
            .with(TerraformJson::new(move || writer.clone()).with_filter(LevelFilter::DEBUG));
        tracing::subscriber::with_default(sub, || {
            let s = tracing::info_span!(
                "rpc",
                tf_rpc = "PlanResourceChange",
                tf_type_name = "rdsenc_x"
            );
            let _g = s.enter();
            tracing::warn!(count = 2, "hello");
            tracing::trace!("filtered out");
        });
        let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let j: J = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(j["@level"], "warn");
        assert_eq!(j["@message"], "hello");
        assert_eq!(j["@module"], "provider.terraform-provider-rdsenc");
        assert_eq!(j["count"], 2);
        assert_eq!(j["tf_rpc"], "PlanResourceChange");
        assert_eq!(j["tf_type_name"], "rdsenc_x");
        let ts = j["@timestamp"].as_str().expect("ts");
        assert_eq!(ts.len(), "2006-01-02T15:04:05.000000Z".len());
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T');
    }
}
