//! The blue/green create path: finding, planning, observing and creating the deployment.

use super::*;

impl Run<'_> {
    pub(super) async fn instance(&self, id: &str) -> Result<Option<DbInstance>, EngineError> {
        self.find(Step::Observe, id, || self.aws().describe_db_instance(id))
            .await
    }

    /// The migration's deployment: by the id recorded in state, else by name. A same-named
    /// deployment without the migration's tag is refused when `strict`, else ignored.
    pub(super) async fn find_deployment(
        &self,
        known: &KnownIds,
        strict: bool,
    ) -> Result<Option<BlueGreenDeployment>, EngineError> {
        let aws = self.aws();
        if let Some(id) = &known.blue_green_deployment_id {
            let r = BlueGreenRef::Id(id.clone());
            if let Some(d) = self
                .find(Step::Observe, id, || aws.describe_blue_green_deployment(&r))
                .await?
                && self.names.owns(&d.tags)
            {
                return Ok(Some(d));
            }
        }
        let name = self.names.blue_green_deployment_name();
        let r = BlueGreenRef::Name(name.clone());
        let Some(d) = self
            .find(Step::Observe, &name, || {
                aws.describe_blue_green_deployment(&r)
            })
            .await?
        else {
            return Ok(None);
        };
        if self.names.owns(&d.tags) {
            Ok(Some(d))
        } else if strict {
            Err(EngineError::ForeignObject {
                attribute: None,
                kind: KIND_BLUE_GREEN,
                id: name,
                migration: self.names.migration.clone(),
            })
        } else {
            tracing::warn!(
                id = name,
                "ignoring a blue/green deployment with the migration's name but without its tags"
            );
            Ok(None)
        }
    }

    /// Every blue instance with the key for its green twin. Collects every problem (for
    /// preflight); `key` is the resolved `kms_key_id` (`None` when it did not resolve).
    pub(crate) async fn green_plan(
        &self,
        source: &DbInstance,
        key: Option<&KmsKey>,
    ) -> Result<Vec<Member>, Vec<EngineError>> {
        let map = &self.spec.blue_green.replica_kms_key_ids;
        let region = arn_region(&source.arn);
        let mut errs = Vec::new();
        let mut members = Vec::new();
        if let Some(k) = key {
            members.push(Member {
                blue_id: source.identifier.clone(),
                blue_arn: source.arn.clone(),
                key_arn: k.arn.clone(),
            });
        }
        let mut matched = BTreeSet::new();
        for r in &source.read_replica_identifiers {
            let id = instance_id_of(r);
            let entry = map
                .iter()
                .find(|(k, _)| *k == r || instance_id_of(k).eq_ignore_ascii_case(id));
            if let Some((k, _)) = entry {
                matched.insert(k.clone());
            }
            let elsewhere = arn_region(r).filter(|rr| Some(*rr) != region);
            let described = if elsewhere.is_some() {
                None
            } else {
                match self.instance(id).await {
                    Ok(d) => d,
                    Err(e) => {
                        errs.push(e);
                        continue;
                    }
                }
            };
            let blue_arn = match &described {
                Some(d) => d.arn.clone(),
                None if r.starts_with("arn:") => r.clone(),
                // Not found in this region: its ARN is the source's with its name.
                None => format!(
                    "{}:{id}",
                    source.arn.rsplit_once(':').map_or("", |(p, _)| p)
                ),
            };
            let key_arn = match entry {
                Some((_, v)) => {
                    let key_region = arn_region(v);
                    if key_region.is_some() && key_region != region {
                        // Another region's key cannot be described here; RDS checks it.
                        v.clone()
                    } else {
                        match self.resolve_key_at(v, REPLICA_KEYS).await {
                            Ok(k) => k.arn,
                            Err(e) => {
                                errs.push(e);
                                continue;
                            }
                        }
                    }
                }
                None if elsewhere.is_some() || described.is_none() => {
                    let where_ = elsewhere.map_or_else(
                        || "could not be found in this region".to_owned(),
                        |rr| format!("is in region {rr}"),
                    );
                    errs.push(EngineError::InvalidSpec {
                        attribute: REPLICA_KEYS,
                        message: format!(
                            "read replica {r} of {} {where_}; give the key for its green twin (a KMS key in the replica's region) in blue_green.replica_kms_key_ids",
                            source.identifier
                        ),
                    });
                    continue;
                }
                None => match key {
                    Some(k) => k.arn.clone(),
                    None => continue,
                },
            };
            members.push(Member {
                blue_id: id.to_owned(),
                blue_arn,
                key_arn,
            });
        }
        for k in map.keys().filter(|k| !matched.contains(*k)) {
            let replicas = if source.read_replica_identifiers.is_empty() {
                "it has none".to_owned()
            } else {
                format!(
                    "its replicas are {}",
                    source.read_replica_identifiers.join(", ")
                )
            };
            errs.push(EngineError::InvalidSpec {
                attribute: REPLICA_KEYS,
                message: format!(
                    "{k} is not a read replica of {} ({replicas})",
                    source.identifier
                ),
            });
        }
        if errs.is_empty() {
            Ok(members)
        } else {
            Err(errs)
        }
    }

    pub(super) async fn blue_green_preflight(&self) -> Vec<EngineError> {
        let id = &self.names.migration;
        let source = match self
            .find(Step::DescribeSource, id, || {
                self.aws().describe_db_instance(id)
            })
            .await
        {
            Ok(Some(s)) => s,
            // preflight::run reports a missing source (`source_exists`); without it there
            // are no replicas to check.
            Ok(None) => return Vec::new(),
            Err(e) => return vec![e],
        };
        // An unusable `kms_key_id` is preflight's finding; here it only stops the replicas
        // without an entry from being checked against it.
        let key = self.resolve_key().await.ok();
        self.green_plan(&source, key.as_ref())
            .await
            .err()
            .unwrap_or_default()
    }

    // -----------------------------------------------------------------------------------------
    // Observe
    // -----------------------------------------------------------------------------------------

    /// One DescribeBlueGreenDeployments, then one DescribeDBInstances per member needed.
    pub(crate) async fn observe_blue_green(
        &self,
        known: &KnownIds,
    ) -> Result<Observed, EngineError> {
        let n = &self.names;
        let dep = self.find_deployment(known, false).await?;
        let mut green_replicas = Vec::new();
        let switched = dep.as_ref().is_some_and(|d| {
            matches!(
                d.status,
                BlueGreenStatus::SwitchoverCompleted | BlueGreenStatus::Deleting
            )
        });
        let (source, target) = match dep.as_ref() {
            Some(d) if !switched => {
                let blue = if d.source_arn.is_empty() {
                    n.migration.as_str()
                } else {
                    instance_id_of(&d.source_arn)
                };
                let source = self.instance(blue).await?;
                let target = if d.target_arn.is_empty() {
                    None
                } else {
                    self.instance(instance_id_of(&d.target_arn)).await?
                };
                for detail in &d.switchover_details {
                    if detail.target_member.is_empty() || detail.target_member == d.target_arn {
                        continue;
                    }
                    if let Some(g) = self.instance(instance_id_of(&detail.target_member)).await? {
                        green_replicas.push(g);
                    }
                }
                (source, target)
            }
            // Switched over (or finalized, deployment deleted or being deleted): `<source>`
            // names the encrypted instance when it carries the migration's target tags, and
            // the old primary is `<source>-old1`. Names decide, not the deployment's ARNs,
            // whose form after a switchover this code does not rely on.
            _ => {
                let completed = dep
                    .as_ref()
                    .is_some_and(|d| d.status == BlueGreenStatus::SwitchoverCompleted);
                let current = self.instance(&n.migration).await?;
                match current {
                    Some(c) if completed || is_our_target(n, &c) => {
                        let old = self.instance(&old_name(&n.migration)).await?;
                        for r in old.iter().flat_map(|o| o.read_replica_identifiers.iter()) {
                            let new = instance_id_of(r).trim_end_matches(OLD_SUFFIX);
                            if let Some(g) = self.instance(new).await? {
                                green_replicas.push(g);
                            }
                        }
                        (old, Some(c))
                    }
                    other => (other, None),
                }
            }
        };
        let cutover = target
            .as_ref()
            .map(|t| CutoverRecord::from_tags(&t.tags))
            .unwrap_or_default();
        let mut o = Observed {
            source,
            target,
            validation: ValidationSummary::NotEnabled,
            cutover,
            blue_green: dep,
            green_replicas,
            ..Observed::default()
        };
        o.phase = derive_blue_green_phase(&o, known.recorded_phase);
        Ok(o)
    }

    // -----------------------------------------------------------------------------------------
    // Create
    // -----------------------------------------------------------------------------------------

    pub(crate) async fn reconcile_blue_green(&self, known: &KnownIds) -> Result<(), EngineError> {
        if let Err(mut errs) = self.spec.validate() {
            return Err(errs.remove(0));
        }
        let existing = self.find_deployment(known, true).await?;
        if existing.as_ref().is_some_and(|d| {
            matches!(
                d.status,
                BlueGreenStatus::SwitchoverInProgress | BlueGreenStatus::SwitchoverCompleted
            )
        }) {
            // Past the create path: apply_switch owns it from here.
            return Ok(());
        }
        let key = self.resolve_key().await?;
        let source = self.source().await?;
        if let Some(e) = blue_green_source_findings(&source)
            .into_iter()
            .next()
            .or_else(|| already_encrypted(&source))
        {
            return Err(e);
        }
        let plan = self.green_plan(&source, Some(&key)).await.map_err(first)?;
        let (dep, fresh) = match existing {
            Some(d) => (d, false),
            None => (self.create_deployment(&source, &plan).await?, true),
        };
        let (dep, green) = self.wait_green(&dep.identifier, fresh).await?;
        let refs: Vec<&DbInstance> = green.iter().collect();
        let problems = green_problems(&dep, &refs, &plan);
        if !problems.is_empty() {
            return Err(EngineError::Failed {
                step: Step::WaitBlueGreen,
                id: dep.name.clone(),
                status: "green not encrypted as asked".into(),
                reason: Some(format!(
                    "{}; the provider never switches over to it. Destroy the migration to delete the deployment (set delete_target_on_destroy to delete the green instances too) and check the keys",
                    problems.join("; ")
                )),
            });
        }
        // The green primary carries the source's name after the switchover; these tags
        // are how observe, teardown and list_migrations recognise it then.
        if let Some(g) = green
            .iter()
            .find(|g| g.arn == dep.target_arn || g.identifier == instance_id_of(&dep.target_arn))
            && !is_our_target(&self.names, g)
        {
            let tags = self.names.tags(Role::Target);
            self.call(Step::RecordPhase, &g.identifier, || {
                self.aws().add_tags(&g.arn, &tags)
            })
            .await?;
        }
        self.emit(
            Phase::Replicating,
            Step::WaitBlueGreen,
            &dep.identifier,
            None,
            dep.status.as_str(),
        );
        Ok(())
    }

    pub(super) async fn create_deployment(
        &self,
        source: &DbInstance,
        plan: &[Member],
    ) -> Result<BlueGreenDeployment, EngineError> {
        let name = self.names.blue_green_deployment_name();
        let mut tags = self.spec.target.tags.clone();
        tags.extend(self.names.tags(Role::BlueGreenDeployment));
        let bg = &self.spec.blue_green;
        let input = CreateBlueGreenDeploymentInput {
            name: name.clone(),
            source_arn: source.arn.clone(),
            target_resource_configurations: plan
                .iter()
                .map(|m| TargetResourceConfig {
                    source_arn: m.blue_arn.clone(),
                    kms_key_id: m.key_arn.clone(),
                })
                .collect(),
            target_engine_version: bg.target_engine_version.clone(),
            target_db_parameter_group_name: bg.target_db_parameter_group_name.clone(),
            tags,
        };
        match self
            .call(Step::CreateBlueGreen, &name, || {
                self.aws().create_blue_green_deployment(&input)
            })
            .await
        {
            Ok(d) => {
                self.emit(
                    Phase::ProvisioningGreen,
                    Step::CreateBlueGreen,
                    &d.identifier,
                    None,
                    d.status.as_str(),
                );
                Ok(d)
            }
            // A concurrent or interrupted create got there first: adopt it if ours.
            Err(EngineError::Aws {
                source: AwsError::AlreadyExists { .. },
                ..
            }) => self
                .find_deployment(&KnownIds::default(), true)
                .await?
                .ok_or_else(|| {
                    EngineError::deleted(
                        Step::CreateBlueGreen,
                        name,
                        Some("RDS said the name is taken, but no deployment has it"),
                    )
                }),
            Err(e) => Err(e),
        }
    }
}
