//! Diagnostics: how every failure reaches the user, with the attribute it concerns.

use super::path::AttributePath;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The operation failed.
    Error,
    /// The operation went on; the user should read this.
    Warning,
}

/// One diagnostic: a short title-case summary, a detail in full sentences with the remedy,
/// and the attribute it points at, when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Short, title case ("Invalid KMS Key ARN").
    pub summary: String,
    /// Full sentences: what happened and how to fix it.
    pub detail: String,
    /// The attribute the diagnostic concerns.
    pub attribute: Option<AttributePath>,
}

/// An ordered list of diagnostics without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a diagnostic unless an equal one is already present.
    pub fn push(&mut self, d: Diagnostic) {
        if !self.0.contains(&d) {
            self.0.push(d);
        }
    }
    /// Adds a diagnostic of `severity`, pointing at `attribute` when there is one.
    fn add(
        &mut self,
        severity: Severity,
        attribute: Option<AttributePath>,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            attribute,
        });
    }
    /// Adds an error without an attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.add(Severity::Error, None, summary, detail);
    }
    /// Adds an error pointing at `path`.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.add(Severity::Error, Some(path), summary, detail);
    }
    /// Adds a warning without an attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.add(Severity::Warning, None, summary, detail);
    }
    /// Adds a warning pointing at `path`.
    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.add(Severity::Warning, Some(path), summary, detail);
    }
    /// Appends every diagnostic of `other`, skipping duplicates.
    pub fn append(&mut self, other: Diagnostics) {
        for d in other.0 {
            self.push(d);
        }
    }
    /// True when any diagnostic is an error.
    pub fn has_error(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    /// True when there are no diagnostics.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates over the diagnostics in order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
    /// The attribute paths the diagnostics point at, in order (diagnostics without one are
    /// left out).
    pub fn attribute_paths(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect()
    }
    /// The diagnostics as a vector.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        for d in iter {
            self.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_skips_duplicates_and_tracks_errors() {
        let mut a = Diagnostics::new();
        a.warning("W", "w");
        assert!(!a.has_error());
        let mut b = Diagnostics::new();
        b.warning("W", "w");
        b.attribute_error(AttributePath::attr("x"), "E", "e");
        a.append(b);
        assert_eq!(a.iter().count(), 2);
        assert!(a.has_error());
    }
}
