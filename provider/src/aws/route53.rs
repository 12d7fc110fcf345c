//! Amazon Route 53: the CNAME used for cut-over and change propagation.
//!
//! Order: finders -> mutation -> status -> waiters.

use std::time::Duration;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, HostedZone, ResourceRecord, ResourceRecordSet,
    RrType,
};

use super::error::{AwsError, operation_errors};
use super::wait::{WaitError, WaitOptions, WaitSpec, wait_for};
use super::{gone, optional};

/// Object kind used in messages for hosted zones.
pub const KIND_HOSTED_ZONE: &str = "Route 53 Hosted Zone";
/// Object kind used in messages for record sets.
pub const KIND_RECORD: &str = "Route 53 Record";
/// Object kind used in messages for changes.
pub const KIND_CHANGE: &str = "Route 53 Change";

/// Default wait for a change to become INSYNC (terraform-provider-aws uses 30 minutes).
pub const CHANGE_INSYNC_TIMEOUT: Duration = Duration::from_secs(30 * 60);

operation_errors! {
    aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneError => NoSuchHostedZone;
    aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsError => NoSuchHostedZone;
    aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError => NoSuchHostedZone;
    aws_sdk_route53::operation::get_change::GetChangeError => NoSuchChange;
}

const CHANGE_PENDING: &[ChangeStatus] = &[ChangeStatus::Pending];
const CHANGE_INSYNC: &[ChangeStatus] = &[ChangeStatus::Insync];

/// `/hostedzone/Z123` and `/change/C123` -> `Z123` / `C123`.
pub fn clean_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// `name` with exactly one trailing dot, lower-case: Route 53's canonical form.
pub fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// The hosted zone with id `zone_id` (with or without the `/hostedzone/` prefix).
pub async fn find_hosted_zone_by_id(
    client: &Client,
    zone_id: &str,
) -> Result<HostedZone, AwsError> {
    let id = clean_id(zone_id);
    let out = client
        .get_hosted_zone()
        .id(id)
        .send()
        .await
        .map_err(AwsError::context(KIND_HOSTED_ZONE, id))?;
    out.hosted_zone.ok_or_else(|| AwsError::NotFound {
        kind: KIND_HOSTED_ZONE,
        id: id.to_owned(),
    })
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
    let id = format!("{zone}/{wanted}/{}", rr_type.as_str());
    let out = client
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(&wanted)
        .start_record_type(rr_type.clone())
        .max_items(1)
        .send()
        .await
        .map_err(AwsError::context(KIND_HOSTED_ZONE, zone))?;
    // The list starts AT the name but may return the next record when it is missing.
    out.resource_record_sets
        .into_iter()
        .find(|r| {
            fqdn(r.name()) == wanted && r.r#type() == &rr_type && r.set_identifier().is_none()
        })
        .ok_or(AwsError::NotFound {
            kind: KIND_RECORD,
            id,
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
    let out = client
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await
        .map_err(AwsError::context(KIND_HOSTED_ZONE, zone))?;
    out.change_info
        .map(|c| clean_id(c.id()).to_owned())
        .ok_or_else(|| AwsError::Service {
            code: "MissingChangeInfo".to_owned(),
            message: "ChangeResourceRecordSets returned no ChangeInfo".to_owned(),
            status: None,
        })
}

/// The change's status, or `None` when Route 53 no longer knows it.
pub async fn status_change(
    client: &Client,
    change_id: &str,
) -> Result<Option<((), ChangeStatus)>, AwsError> {
    let id = clean_id(change_id);
    let out = client
        .get_change()
        .id(id)
        .send()
        .await
        .map_err(AwsError::context(KIND_CHANGE, id));
    optional(out).map(|o| {
        o.and_then(|out| out.change_info)
            .map(|c| ((), c.status().clone()))
    })
}

/// Waits until the change is `INSYNC` on all Route 53 name servers.
pub async fn wait_change_insync(
    client: &Client,
    change_id: &str,
    timeout: Duration,
    opts: &WaitOptions,
) -> Result<(), WaitError> {
    let spec = WaitSpec {
        kind: KIND_CHANGE,
        id: change_id,
        pending: CHANGE_PENDING,
        target: CHANGE_INSYNC,
        timeout,
    };
    wait_for(spec, opts, || status_change(client, change_id))
        .await?
        .ok_or_else(|| gone(KIND_CHANGE, change_id))
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
