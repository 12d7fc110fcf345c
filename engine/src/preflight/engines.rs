//! Which engine versions AWS DMS supports as both source and target, the table the
//! `engine_supported` check and the docs share.
//!
//! | engine | versions |
//! | --- | --- |
//! | `mysql` | 5.7, 8.0, 8.4 |
//! | `mariadb` | 10.x, 11.x |
//! | `postgres` | 10 to 17 |

use crate::api::DbEngine;

/// The support table as Markdown (for docs and descriptions).
pub const SUPPORT_TABLE: &str = "| engine | versions |\n| --- | --- |\n\
| `mysql` | 5.7, 8.0, 8.4 |\n| `mariadb` | 10.x, 11.x |\n| `postgres` | 10 to 17 |\n";

/// The engines rdsenc migrates.
pub const SUPPORTED_ENGINES: &[&str] = &["mariadb", "mysql", "postgres"];

/// MySQL `major.minor` versions DMS supports.
const MYSQL: &[(u32, u32)] = &[(5, 7), (8, 0), (8, 4)];
/// MariaDB major versions DMS supports.
const MARIADB: &[u32] = &[10, 11];
/// PostgreSQL major versions DMS supports.
const POSTGRES: std::ops::RangeInclusive<u32> = 10..=17;

/// `Ok` when DMS supports `engine` at `version` as source and target; else why not.
pub fn check_support(engine: &DbEngine, version: &str) -> Result<(), String> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next().flatten();
    let minor = parts.next().flatten();
    let supported = match engine {
        DbEngine::Mysql => major
            .zip(minor)
            .is_some_and(|(a, b)| MYSQL.contains(&(a, b))),
        DbEngine::Mariadb => major.is_some_and(|a| MARIADB.contains(&a)),
        DbEngine::Postgres => major.is_some_and(|a| POSTGRES.contains(&a)),
        DbEngine::Other(e) => {
            return Err(format!(
                "engine {e:?} is not one rdsenc migrates (supported: mysql, mariadb, postgres)"
            ));
        }
    };
    if supported {
        Ok(())
    } else {
        let which = match engine {
            DbEngine::Mysql => "MySQL 5.7, 8.0 and 8.4",
            DbEngine::Mariadb => "MariaDB 10.x and 11.x",
            _ => "PostgreSQL 10 to 17",
        };
        Err(format!(
            "{engine} {version} is not supported by AWS DMS as both source and target (supported: {which})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_versions_are_supported_and_their_neighbours_are_not() {
        for (e, v) in [
            ("mysql", "5.7.44"),
            ("mysql", "8.0.35"),
            ("mysql", "8.4.3"),
            ("mariadb", "10.11.10"),
            ("mariadb", "11.4.4"),
            ("postgres", "10.21"),
            ("postgres", "16.6"),
            ("postgres", "17.2"),
        ] {
            assert_eq!(check_support(&DbEngine::from_aws(e), v), Ok(()), "{e} {v}");
        }
        for (e, v) in [
            ("mysql", "5.6.51"),
            ("mysql", "8.1.0"),
            ("mariadb", "12.0.1"),
            ("postgres", "9.6.24"),
            ("postgres", "18.0"),
            ("postgres", "garbage"),
            ("sqlserver-ee", "15.00"),
        ] {
            assert!(check_support(&DbEngine::from_aws(e), v).is_err(), "{e} {v}");
        }
    }
}
