//! Amazon Route 53: the CNAME used for cut-over and change propagation.
//!
//! Finder, mutation and the change's status; waiting for INSYNC is the engine's job.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};

use super::error::{Classify, not_found, operation_errors};
use rdsenc_engine::api::AwsError;

/// Object kind used in messages for hosted zones.
pub const KIND_HOSTED_ZONE: &str = "Route 53 Hosted Zone";
/// Object kind used in messages for record sets.
pub const KIND_RECORD: &str = "Route 53 Record";
/// Object kind used in messages for changes.
pub const KIND_CHANGE: &str = "Route 53 Change";

operation_errors! {
    aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsError => NoSuchHostedZone;
    aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError => NoSuchHostedZone;
    aws_sdk_route53::operation::get_change::GetChangeError => NoSuchChange;
}

/// `/hostedzone/Z123` and `/change/C123` -> `Z123` / `C123`.
pub fn clean_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// `name` with exactly one trailing dot, lower-case: Route 53's canonical form.
pub fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// The record set `name`/`rr_type` in the zone (simple routing: no set identifier).
pub async fn find_record_set(
    client: &Client,
    zone_id: &str,
    name: &str,
    rr_type: RrType,
) -> Result<ResourceRecordSet, AwsError> {
    let zone = clean_id(zone_id);
    let wanted = fqdn(name);
    let request = client
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(&wanted)
        .start_record_type(rr_type.clone())
        .max_items(1)
        .send();
    let out = request.await.about(KIND_HOSTED_ZONE, zone)?;
    // The list starts AT the name but may return the next record when it is missing.
    out.resource_record_sets
        .into_iter()
        .find(|r| {
            fqdn(r.name()) == wanted && r.r#type() == &rr_type && r.set_identifier().is_none()
        })
        .ok_or_else(|| {
            not_found(
                KIND_RECORD,
                &format!("{zone}/{wanted}/{}", rr_type.as_str()),
            )
        })
}

/// Points the CNAME `name` at `target` (UPSERT) and returns the change id to wait on.
pub async fn upsert_cname(
    client: &Client,
    zone_id: &str,
    name: &str,
    target: &str,
    ttl: i64,
    comment: &str,
) -> Result<String, AwsError> {
    let zone = clean_id(zone_id);
    let build = |e: aws_smithy_types::error::operation::BuildError| AwsError::Service {
        code: "RequestConstructionFailed".to_owned(),
        message: e.to_string(),
        status: None,
    };
    let record = ResourceRecordSet::builder()
        .name(fqdn(name))
        .r#type(RrType::Cname)
        .ttl(ttl)
        .resource_records(
            ResourceRecord::builder()
                .value(target)
                .build()
                .map_err(build)?,
        )
        .build()
        .map_err(build)?;
    let batch = ChangeBatch::builder()
        .comment(comment)
        .changes(
            Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(record)
                .build()
                .map_err(build)?,
        )
        .build()
        .map_err(build)?;
    let request = client
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send();
    let out = request.await.about(KIND_HOSTED_ZONE, zone)?;
    out.change_info
        .map(|c| clean_id(c.id()).to_owned())
        .ok_or_else(|| AwsError::Service {
            code: "MissingChangeInfo".to_owned(),
            message: "ChangeResourceRecordSets returned no ChangeInfo".to_owned(),
            status: None,
        })
}

/// The change's status (`PENDING` or `INSYNC`). `NotFound` when Route 53 no longer knows the
/// change (or answers without a `ChangeInfo`).
pub async fn status_change(client: &Client, change_id: &str) -> Result<ChangeStatus, AwsError> {
    let id = clean_id(change_id);
    let out = client
        .get_change()
        .id(id)
        .send()
        .await
        .about(KIND_CHANGE, id)?;
    out.change_info
        .map(|c| c.status().clone())
        .ok_or_else(|| not_found(KIND_CHANGE, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_lose_their_path_prefix_and_names_get_one_trailing_dot() {
        assert_eq!(clean_id("/hostedzone/Z123"), "Z123");
        assert_eq!(clean_id("C9"), "C9");
        assert_eq!(fqdn("DB.Example.com"), "db.example.com.");
        assert_eq!(fqdn("db.example.com."), "db.example.com.");
    }
}
