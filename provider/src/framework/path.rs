//! Attribute paths: where in a configuration a diagnostic points.

use std::fmt;

/// One step of an [`AttributePath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute or nested block by name.
    Attribute(String),
    /// A map element by key.
    ElementKeyString(String),
    /// A list element (or nested block instance) by index.
    ElementKeyInt(i64),
}

/// A path from the root of a schema to one attribute, e.g. `dms[0].table_mappings`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The root path (no steps).
    pub fn root() -> Self {
        Self(Vec::new())
    }
    /// A path to a top-level attribute.
    pub fn attr(name: &str) -> Self {
        Self(vec![PathStep::Attribute(name.to_owned())])
    }
    /// This path extended by an attribute name.
    #[must_use]
    pub fn at(&self, name: &str) -> Self {
        let mut p = self.clone();
        p.0.push(PathStep::Attribute(name.to_owned()));
        p
    }
    /// This path extended by a list index.
    #[must_use]
    pub fn index(&self, i: i64) -> Self {
        let mut p = self.clone();
        p.0.push(PathStep::ElementKeyInt(i));
        p
    }
    /// This path extended by a map key.
    #[must_use]
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(PathStep::ElementKeyString(k.to_owned()));
        p
    }
    /// Parses the dotted form used in this crate (`dms.0.table_mappings` or `dms[0].x`).
    pub fn parse(s: &str) -> Self {
        let mut p = Self::root();
        for part in s
            .replace('[', ".")
            .replace(']', "")
            .split('.')
            .filter(|x| !x.is_empty())
        {
            p = match part.parse::<i64>() {
                Ok(i) => p.index(i),
                Err(_) => p.at(part),
            };
        }
        p
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                PathStep::Attribute(a) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(a)?;
                }
                PathStep::ElementKeyString(k) => write!(f, "[{k:?}]")?,
                PathStep::ElementKeyInt(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_terraform_addresses() {
        assert_eq!(
            AttributePath::parse("dms[0].table_mappings").to_string(),
            "dms[0].table_mappings"
        );
        assert_eq!(
            AttributePath::attr("tags").key("a").to_string(),
            "tags[\"a\"]"
        );
    }
}
