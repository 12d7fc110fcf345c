//! The IAM policy in `docs/guides/iam-policy.md` grants exactly the AWS operations the provider's
//! code calls: no fewer (an apply would fail with AccessDenied half-way through a migration) and no
//! more (the policy is a least-privilege promise).
//!
//! The operations are derived from the code, not listed by hand: every `.op()` call in
//! `provider/src/**` whose name is an operation of an AWS SDK client the file uses (the SDK crate's
//! `src/client/<op>.rs` files, found through `cargo metadata`) is one AWS call. A name that several
//! SDKs share (`list_tags_for_resource`) is attributed by its receiver (`self.rds()`, `self.dms()`).
//! IAM matches action names case-insensitively, so `describe_db_instances` is `DescribeDBInstances`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// SDK crate name suffix (`aws-sdk-<suffix>`) -> IAM service prefix, and the receiver names the
/// provider's code uses for that client (`Clients::rds()`, fields `rds`).
const SERVICES: &[(&str, &str, &[&str])] = &[
    ("rds", "rds", &["rds"]),
    ("databasemigration", "dms", &["dms"]),
    ("kms", "kms", &["kms"]),
    ("cloudwatch", "cloudwatch", &["cloudwatch", "cw"]),
    ("route53", "route53", &["route53", "r53"]),
    (
        "secretsmanager",
        "secretsmanager",
        &["secretsmanager", "sm"],
    ),
    ("sts", "sts", &["sts"]),
];

/// Statements whose `Sid` starts with this grant what AWS checks on the caller's behalf inside an
/// operation (KMS grants for an encrypted copy, iam:PassRole for DMS/RDS roles): no code calls them.
const INDIRECT_SID_PREFIX: &str = "Indirect";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Operation names (snake_case) of each SDK crate, from the crate sources cargo resolved.
fn sdk_operations() -> BTreeMap<&'static str, BTreeSet<String>> {
    // Only the host's dependencies: offline, cargo cannot resolve other platforms' crates.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", host])
        .current_dir(root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let mut ops = BTreeMap::new();
    for (suffix, _, _) in SERVICES {
        let name = format!("aws-sdk-{suffix}");
        let manifests: Vec<&str> = meta["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .filter(|p| p["name"] == name.as_str())
            .filter_map(|p| p["manifest_path"].as_str())
            .collect();
        assert!(!manifests.is_empty(), "{name} not among the dependencies");
        let mut names = BTreeSet::new();
        for manifest in manifests {
            let dir = Path::new(manifest)
                .parent()
                .expect("crate dir")
                .join("src/client");
            for entry in
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            {
                let file = entry.expect("dir entry").file_name();
                let file = file.to_string_lossy();
                if let Some(op) = file.strip_suffix(".rs")
                    && op != "customize"
                {
                    names.insert(op.to_owned());
                }
            }
        }
        // Sanity: the layout assumption holds (one file per operation).
        assert!(names.len() > 5, "{name}: no operations found");
        ops.insert(*suffix, names);
    }
    ops
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(position, name)` of every `.name()` call (no arguments: SDK operations take none).
fn empty_calls(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices('.') {
        let start = i + 1;
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'_')
                .count();
        if end > start && text[end..].starts_with("()") {
            out.push((i, &text[start..end]));
        }
    }
    out
}

/// The identifier the call at `dot` is made on: `self.rds()\n  .op()` -> `rds`.
fn receiver(text: &str, dot: usize) -> String {
    let before = text[..dot].trim_end();
    let before = before.strip_suffix("()").unwrap_or(before);
    before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// `iam-prefix:operationname` (lower case, no underscores) -> where the code calls it.
fn called_operations() -> BTreeMap<String, BTreeSet<String>> {
    let ops = sdk_operations();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut called: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut ambiguous = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let used: Vec<_> = SERVICES
            .iter()
            .filter(|(suffix, _, _)| text.contains(&format!("aws_sdk_{suffix}")))
            .collect();
        if used.is_empty() {
            continue;
        }
        let rel = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        for (dot, name) in empty_calls(&text) {
            let candidates: Vec<_> = used
                .iter()
                .filter(|(s, _, _)| ops[s].contains(name))
                .collect();
            let service = match candidates.as_slice() {
                [] => continue,
                [one] => one,
                many => {
                    let recv = receiver(&text, dot);
                    match many
                        .iter()
                        .find(|(_, _, names)| names.contains(&recv.as_str()))
                    {
                        Some(s) => s,
                        None => {
                            ambiguous.push(format!("{rel}: .{name}() on `{recv}`"));
                            continue;
                        }
                    }
                }
            };
            called
                .entry(format!("{}:{}", service.1, name.replace('_', "")))
                .or_default()
                .insert(rel.clone());
        }
    }
    assert!(
        ambiguous.is_empty(),
        "cannot tell which AWS service these calls go to: {ambiguous:?}"
    );
    called
}

/// `(direct, indirect)` actions of the policy, lower-cased as IAM compares them.
fn policy_actions() -> (BTreeMap<String, String>, BTreeSet<String>) {
    let path = root().join("../docs/guides/iam-policy.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text
        .find("```json\n")
        .expect("a ```json block in iam-policy.md")
        + 8;
    let len = text[start..].find("```").expect("closing ```");
    let policy: Value = serde_json::from_str(&text[start..start + len]).expect("policy is JSON");
    assert_eq!(policy["Version"], "2012-10-17");
    let mut direct = BTreeMap::new();
    let mut indirect = BTreeSet::new();
    for st in policy["Statement"].as_array().expect("Statement array") {
        assert_eq!(st["Effect"], "Allow", "{st}");
        let sid = st["Sid"].as_str().expect("every statement has a Sid");
        let actions: Vec<&str> = match &st["Action"] {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            other => panic!("{sid}: Action is {other}"),
        };
        for a in actions {
            assert!(
                !a.contains('*'),
                "{sid}: {a}: no wildcards, list each action"
            );
            if sid.starts_with(INDIRECT_SID_PREFIX) {
                indirect.insert(a.to_ascii_lowercase());
            } else {
                let dup = direct.insert(a.to_ascii_lowercase(), a.to_owned());
                assert!(dup.is_none(), "{a} listed twice");
            }
        }
    }
    (direct, indirect)
}

#[test]
fn the_iam_policy_grants_every_aws_operation_the_provider_calls_and_nothing_else() {
    let called = called_operations();
    let (direct, indirect) = policy_actions();
    // Guard against the scan silently finding nothing (a renamed SDK layout, say).
    for must in [
        "rds:copydbsnapshot",
        "dms:createreplicationtask",
        "kms:describekey",
    ] {
        assert!(called.contains_key(must), "scan missed {must}: {called:?}");
    }
    let missing: Vec<String> = called
        .iter()
        .filter(|(op, _)| !direct.contains_key(*op))
        .map(|(op, files)| format!("{op} (called in {files:?})"))
        .collect();
    let unused: Vec<&String> = direct
        .iter()
        .filter(|(op, _)| !called.contains_key(*op))
        .map(|(_, a)| a)
        .collect();
    assert!(
        missing.is_empty(),
        "docs/guides/iam-policy.md misses operations the provider calls: {missing:#?}"
    );
    assert!(
        unused.is_empty(),
        "docs/guides/iam-policy.md grants operations no code calls any more: {unused:?}"
    );
    let overlap: Vec<_> = indirect
        .iter()
        .filter(|a| called.contains_key(*a))
        .collect();
    assert!(
        overlap.is_empty(),
        "the provider calls these itself; move them out of the Indirect statements: {overlap:?}"
    );
}

#[test]
fn the_receiver_of_a_multi_line_call_chain_is_found() {
    let text = "let out = self\n    .rds()\n    .list_tags_for_resource()\n    .send()";
    let calls = empty_calls(text);
    let (dot, name) = calls
        .iter()
        .find(|(_, n)| *n == "list_tags_for_resource")
        .copied()
        .expect("call found");
    assert_eq!(name, "list_tags_for_resource");
    assert_eq!(receiver(text, dot), "rds");
}
