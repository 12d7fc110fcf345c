//! Server invariants, checked with an in-test fake resource.

use std::sync::Mutex as StdMutex;

use async_trait::async_trait;

use super::*;
use crate::framework::{Attribute, ConfigureResponse, NestedBlock};

/// What the fake does in create/update.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Fills every computed value.
    Good,
    /// Sets the state to null without an error.
    ForgetState,
    /// Leaves the computed id unknown.
    LeaveUnknown,
    /// Records the id, then fails.
    FailPartway,
    /// Changes a configured (known planned) value.
    ChangeKnown,
    /// Copies the write-only password into state.
    LeakPassword,
    /// Plans a configured (not computed) attribute to a different value.
    BadPlan,
}

struct Fake {
    mode: StdMutex<Mode>,
    seen_password: StdMutex<Option<String>>,
    seen_cancel: StdMutex<Option<CancellationToken>>,
}

impl Fake {
    fn new(mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            mode: StdMutex::new(mode),
            seen_password: StdMutex::new(None),
            seen_cancel: StdMutex::new(None),
        })
    }
    fn mode(&self) -> Mode {
        *self.mode.lock().expect("lock")
    }
}

fn fake_schema() -> Schema {
    Schema::new(
        Block::new("fake")
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(Attribute::string("password").optional().write_only())
            .attribute(Attribute::number("size").optional().computed())
            .block(NestedBlock::single(
                "opts",
                Block::new("o")
                    .attribute(Attribute::string("x").optional())
                    .attribute(Attribute::string("arn").computed()),
            ))
            .block(NestedBlock::list(
                "items",
                Block::new("i")
                    .attribute(Attribute::string("v").optional())
                    .attribute(Attribute::string("uid").computed()),
            )),
    )
}

fn fill_computed(v: &mut Value) {
    v.set("id", Value::string("fake-1"));
    if v.get("size").is_unknown() {
        v.set("size", Value::int(10));
    }
    if let Some(opts) = v.get_mut("opts")
        && opts.get("arn").is_unknown()
    {
        opts.set("arn", Value::string("arn:fake"));
    }
    if let Some(Value::List(items)) = v.get_mut("items") {
        for (i, it) in items.iter_mut().enumerate() {
            if it.get("uid").is_unknown() {
                it.set("uid", Value::string(format!("u{i}")));
            }
        }
    }
}

#[async_trait]
impl Resource for Fake {
    fn type_name(&self) -> &'static str {
        "rdsenc_fake"
    }
    fn schema(&self) -> Schema {
        fake_schema()
    }
    async fn plan(&self, _ctx: &Ctx, _req: PlanRequest, resp: &mut PlanResponse) {
        if self.mode() == Mode::BadPlan {
            resp.planned_state
                .set("name", Value::string("not-what-was-configured"));
        }
    }
    async fn create(&self, ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse) {
        *self.seen_password.lock().expect("lock") = req
            .config
            .get("password")
            .as_str()
            .value()
            .map(str::to_owned);
        *self.seen_cancel.lock().expect("lock") = Some(ctx.cancel.clone());
        match self.mode() {
            Mode::Good | Mode::BadPlan => fill_computed(&mut resp.new_state),
            Mode::ForgetState => resp.new_state = Value::Null,
            Mode::LeaveUnknown => {}
            Mode::FailPartway => {
                resp.new_state.set("id", Value::string("fake-1"));
                resp.diagnostics.error(
                    "Creating Fake Failed",
                    "the fake failed after creating the id",
                );
            }
            Mode::ChangeKnown => {
                fill_computed(&mut resp.new_state);
                resp.new_state.set("name", Value::string("renamed"));
            }
            Mode::LeakPassword => {
                fill_computed(&mut resp.new_state);
                resp.new_state
                    .set("password", req.config.get("password").clone());
            }
        }
    }
    async fn read(&self, _ctx: &Ctx, _req: ReadRequest, resp: &mut ReadResponse) {
        resp.new_state.set("password", Value::string("leak"));
    }
    async fn update(&self, ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse) {
        self.create(ctx, req, resp).await;
    }
    async fn delete(&self, _ctx: &Ctx, _req: DeleteRequest, resp: &mut ApplyResponse) {
        if self.mode() == Mode::FailPartway {
            resp.diagnostics
                .error("Deleting Fake Failed", "still there");
        }
    }
    async fn import(&self, _ctx: &Ctx, req: ImportRequest, resp: &mut ImportResponse) {
        let mut v = fake_schema().block.empty_value();
        v.set("id", Value::string(req.id));
        v.set("password", Value::string("never"));
        resp.state = v;
    }
}

struct FakeProvider {
    fake: Arc<Fake>,
}

#[async_trait]
impl Provider for FakeProvider {
    fn type_name(&self) -> &'static str {
        "rdsenc"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new("p").attribute(Attribute::string("region").optional()))
    }
    async fn configure(&self, _ctx: &Ctx, req: ConfigureRequest, resp: &mut ConfigureResponse) {
        match req.config.get("region").as_str().value() {
            Some("bad") => resp.diagnostics.attribute_error(
                AttributePath::attr("region"),
                "Invalid Region",
                "bad region",
            ),
            other => resp.provider_data = Some(Arc::new(other.unwrap_or("none").to_owned())),
        }
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![self.fake.clone()]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
}

fn server(mode: Mode) -> (ProviderServer, Arc<Fake>) {
    let fake = Fake::new(mode);
    (
        ProviderServer::new(Arc::new(FakeProvider { fake: fake.clone() })),
        fake,
    )
}

fn config() -> Value {
    let mut v = fake_schema().block.empty_value();
    v.set("name", Value::string("db1"));
    v.set("password", Value::string("s3cret"));
    v.set(
        "opts",
        Value::Object(
            [
                ("x".to_owned(), Value::string("y")),
                ("arn".to_owned(), Value::Null),
            ]
            .into(),
        ),
    );
    v.set(
        "items",
        Value::List(vec![Value::Object(
            [
                ("v".to_owned(), Value::string("a")),
                ("uid".to_owned(), Value::Null),
            ]
            .into(),
        )]),
    );
    v
}

fn entry(s: &ProviderServer) -> &ResourceEntry {
    s.resources.get("rdsenc_fake").expect("registered")
}

async fn plan_create(s: &ProviderServer) -> PlanResponse {
    s.plan_values(entry(s), Value::Null, config(), config(), Vec::new())
        .await
}

/// Plans the create of [`config`] and applies that plan.
async fn apply_create(s: &ProviderServer) -> ApplyResponse {
    let plan = plan_create(s).await;
    s.apply_values(
        entry(s),
        Value::Null,
        plan.planned_state,
        config(),
        Vec::new(),
    )
    .await
}

#[tokio::test]
async fn create_plan_marks_computed_attributes_unknown_including_nested_blocks() {
    let (s, _) = server(Mode::Good);
    let plan = plan_create(&s).await;
    let p = &plan.planned_state;
    assert!(p.get("id").is_unknown());
    assert!(p.get("size").is_unknown());
    assert!(p.get("opts").get("arn").is_unknown());
    assert!(p.get("items").elements()[0].get("uid").is_unknown());
    assert_eq!(p.get("name").as_str().value(), Some("db1"));
    assert_eq!(p.get("opts").get("x").as_str().value(), Some("y"));
    assert!(plan.requires_replace.is_empty());
    assert!(!plan.diagnostics.has_error());
}

#[tokio::test]
async fn write_only_attributes_are_null_in_the_plan_but_reach_apply_through_config() {
    let (s, fake) = server(Mode::Good);
    let plan = plan_create(&s).await;
    assert!(plan.planned_state.get("password").is_null());
    let applied = apply_create(&s).await;
    assert!(
        !applied.diagnostics.has_error(),
        "{:?}",
        applied.diagnostics
    );
    assert!(applied.new_state.get("password").is_null());
    assert_eq!(
        fake.seen_password.lock().expect("lock").as_deref(),
        Some("s3cret")
    );
}

#[tokio::test]
async fn write_only_values_a_resource_copies_into_state_are_nulled() {
    let (s, _) = server(Mode::LeakPassword);
    let applied = apply_create(&s).await;
    assert!(applied.new_state.get("password").is_null());
    assert!(!applied.diagnostics.has_error());
}

#[tokio::test]
async fn planning_twice_gives_the_same_plan() {
    let (s, _) = server(Mode::Good);
    let a = plan_create(&s).await;
    let b = plan_create(&s).await;
    assert_eq!(a.planned_state, b.planned_state);
    assert_eq!(a.requires_replace, b.requires_replace);
}

#[tokio::test]
async fn changing_a_requires_replace_attribute_is_listed_and_other_changes_are_not() {
    let (s, _) = server(Mode::Good);
    let created = apply_create(&s).await.new_state;
    let mut cfg = config();
    cfg.set("name", Value::string("db2"));
    let mut proposed = created.clone();
    proposed.set("name", Value::string("db2"));
    let plan = s
        .plan_values(entry(&s), created.clone(), proposed, cfg, Vec::new())
        .await;
    assert_eq!(plan.requires_replace, vec![AttributePath::attr("name")]);

    let mut proposed = created.clone();
    proposed.set("size", Value::int(20));
    let plan = s
        .plan_values(entry(&s), created.clone(), proposed, config(), Vec::new())
        .await;
    assert!(plan.requires_replace.is_empty());
    // An update keeps computed values known instead of marking them unknown.
    assert_eq!(
        plan.planned_state.get("id").as_str().value(),
        Some("fake-1")
    );
}

#[tokio::test]
async fn destroy_plans_null_without_consulting_the_resource() {
    let (s, _) = server(Mode::Good);
    let plan = s
        .plan_values(entry(&s), config(), Value::Null, Value::Null, b"p".to_vec())
        .await;
    assert!(plan.planned_state.is_null());
    assert_eq!(plan.planned_private, b"p".to_vec());
}

#[tokio::test]
async fn create_without_state_or_error_is_reported_as_a_provider_bug() {
    let (s, _) = server(Mode::ForgetState);
    let applied = apply_create(&s).await;
    let d: Vec<_> = applied.diagnostics.iter().collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].summary, "Missing Resource State After Create");
    assert!(d[0].detail.contains("always a problem with the provider"));
}

#[tokio::test]
async fn unknown_values_left_after_apply_are_an_error_naming_the_path() {
    let (s, _) = server(Mode::LeaveUnknown);
    let applied = apply_create(&s).await;
    assert!(applied.diagnostics.has_error());
    let d = applied.diagnostics.iter().next().expect("one diagnostic");
    assert!(d.attribute.is_some());
    assert!(!applied.new_state.contains_unknown());
}

#[tokio::test]
async fn a_failed_create_keeps_its_partial_state_without_unknowns() {
    let (s, _) = server(Mode::FailPartway);
    let applied = apply_create(&s).await;
    assert!(applied.diagnostics.has_error());
    assert_eq!(applied.new_state.get("id").as_str().value(), Some("fake-1"));
    assert_eq!(applied.new_state.get("name").as_str().value(), Some("db1"));
    assert!(!applied.new_state.contains_unknown());
}

#[tokio::test]
async fn changing_a_known_planned_value_in_apply_is_an_error_naming_the_path() {
    let (s, _) = server(Mode::ChangeKnown);
    let applied = apply_create(&s).await;
    let d = applied.diagnostics.iter().next().expect("diagnostic");
    assert_eq!(
        d.summary,
        "Provider Produced Inconsistent Result After Apply"
    );
    assert_eq!(d.attribute, Some(AttributePath::attr("name")));
}

#[tokio::test]
async fn a_failed_delete_keeps_the_object_in_state_and_a_good_one_clears_it() {
    let (s, _) = server(Mode::FailPartway);
    let r = s
        .apply_values(entry(&s), config(), Value::Null, Value::Null, Vec::new())
        .await;
    assert!(r.diagnostics.has_error());
    assert_eq!(r.new_state.get("name").as_str().value(), Some("db1"));
    assert!(r.new_state.get("password").is_null());

    let (s, _) = server(Mode::Good);
    let r = s
        .apply_values(entry(&s), config(), Value::Null, Value::Null, Vec::new())
        .await;
    assert!(!r.diagnostics.has_error());
    assert!(r.new_state.is_null());
}

#[tokio::test]
async fn read_and_import_never_return_write_only_values() {
    let (s, _) = server(Mode::Good);
    let mut d = Diagnostics::new();
    let (state, _) = s.read_values(entry(&s), config(), Vec::new(), &mut d).await;
    assert!(state.get("password").is_null());
    let out = s
        .import_resource_state("rdsenc_fake", "imp-1".to_owned())
        .await;
    let bytes = out.state.expect("state").msgpack;
    let v = msgpack::decode(&bytes, &fake_schema().value_type()).expect("decode");
    assert_eq!(v.get("id").as_str().value(), Some("imp-1"));
    assert!(v.get("password").is_null());
}

#[tokio::test]
async fn wire_level_plan_round_trips_msgpack_and_unknown_type_names_are_diagnostics() {
    let (s, _) = server(Mode::Good);
    let ty = fake_schema().value_type();
    let cfg = WireValue::msgpack(msgpack::encode(&config(), &ty).expect("enc"));
    let null = WireValue::msgpack(vec![0xc0]);
    let plan = |type_name: &'static str, proposed: WireValue| {
        let (s, null, cfg) = (&s, &null, &cfg);
        async move {
            s.plan_resource_change(
                type_name,
                Some(null),
                Some(&proposed),
                Some(cfg),
                Vec::new(),
            )
            .await
        }
    };
    let out = plan("rdsenc_fake", cfg.clone()).await;
    assert!(!out.diagnostics.has_error());
    let planned = msgpack::decode(&out.planned_state.expect("planned").msgpack, &ty).expect("dec");
    assert!(planned.get("id").is_unknown());

    let out = plan("rdsenc_nope", cfg.clone()).await;
    assert_eq!(
        out.diagnostics.iter().next().map(|d| d.summary.as_str()),
        Some("Unknown Resource Type")
    );
    let out = plan("rdsenc_fake", WireValue::msgpack(vec![0x93])).await;
    assert!(out.diagnostics.has_error());
}

#[tokio::test]
async fn upgrade_reads_stored_json_into_the_current_schema() {
    let (s, _) = server(Mode::Good);
    let raw = WireValue {
        msgpack: Vec::new(),
        json: br#"{"id":"fake-1","name":"db1","old_field":1,"items":null}"#.to_vec(),
    };
    let out = s.upgrade_resource_state("rdsenc_fake", 0, &raw, false);
    assert!(!out.diagnostics.has_error(), "{:?}", out.diagnostics);
    let v = msgpack::decode(
        &out.state.expect("state").msgpack,
        &fake_schema().value_type(),
    )
    .expect("decode");
    assert_eq!(v.get("id").as_str().value(), Some("fake-1"));
    assert_eq!(v.get("items"), &Value::List(vec![]));
    assert!(v.get("size").is_null());
    let out = s.upgrade_resource_state("rdsenc_fake", 7, &raw, false);
    assert!(out.diagnostics.has_error());
}

#[tokio::test]
async fn configure_can_run_again_and_replaces_the_provider_data() {
    let (s, _) = server(Mode::Good);
    let ty = s.provider_schema().value_type();
    let cfg = |r: &str| {
        let v = Value::Object([("region".to_owned(), Value::string(r))].into());
        WireValue::msgpack(msgpack::encode(&v, &ty).expect("enc"))
    };
    let region = || s.ctx().data::<String>().as_deref().cloned();
    for r in ["eu-west-1", "us-east-1"] {
        assert!(s.configure("1.11.4".into(), Some(&cfg(r))).await.is_empty());
        assert_eq!(region().as_deref(), Some(r));
    }
    let d = s.configure("1.11.4".into(), Some(&cfg("bad"))).await;
    assert!(d.has_error());
    // A failed configure keeps the previous data.
    assert_eq!(region().as_deref(), Some("us-east-1"));
}

#[tokio::test]
async fn stop_cancels_running_operations_but_not_later_ones() {
    let (s, fake) = server(Mode::Good);
    let _ = apply_create(&s).await;
    let earlier = fake
        .seen_cancel
        .lock()
        .expect("lock")
        .clone()
        .expect("token");
    assert!(!earlier.is_cancelled());
    s.stop();
    assert!(earlier.is_cancelled());
    assert!(!s.ctx().cancel.is_cancelled());
}

#[tokio::test]
async fn validation_accepts_unknowns_anywhere() {
    let (s, _) = server(Mode::Good);
    let ty = fake_schema().value_type();
    let mut v = config();
    v.set("items", Value::Unknown);
    v.set("name", Value::Unknown);
    v.set(
        "opts",
        Value::Object(
            [
                ("x".to_owned(), Value::Unknown),
                ("arn".to_owned(), Value::Null),
            ]
            .into(),
        ),
    );
    let w = WireValue::msgpack(msgpack::encode(&v, &ty).expect("enc"));
    let d = s.validate_resource_config("rdsenc_fake", Some(&w)).await;
    assert!(d.is_empty(), "{d:?}");
    let d = s.validate_resource_config("rdsenc_other", Some(&w)).await;
    assert!(d.has_error());
}

#[tokio::test]
async fn a_plan_that_changes_a_configured_attribute_is_a_provider_bug_naming_the_path() {
    let (s, _) = server(Mode::BadPlan);
    let plan = plan_create(&s).await;
    let d = plan.diagnostics.iter().next().expect("diagnostic");
    assert_eq!(d.summary, "Provider Produced Invalid Plan");
    assert_eq!(d.attribute, Some(AttributePath::attr("name")));
    // A good resource passes the same check with nested blocks present.
    let (s, _) = server(Mode::Good);
    assert!(plan_create(&s).await.diagnostics.is_empty());
}

#[test]
fn schema_defaults_fill_null_and_unknown_planned_values_and_keep_set_ones() {
    let block = Block::new("d")
        .attribute(
            Attribute::string("mode")
                .optional()
                .computed()
                .default(Value::string("none")),
        )
        .attribute(
            Attribute::bool("flag")
                .optional()
                .computed()
                .default(Value::Bool(false)),
        )
        .attribute(
            Attribute::string("kept")
                .optional()
                .computed()
                .default(Value::string("x")),
        )
        .attribute(Attribute::string("plain").optional());
    let mut planned = Value::Object(
        [
            ("mode".to_owned(), Value::Null),
            ("flag".to_owned(), Value::Unknown),
            ("kept".to_owned(), Value::string("chosen")),
            ("plain".to_owned(), Value::Null),
        ]
        .into_iter()
        .collect(),
    );
    apply_defaults(&block, &mut planned);
    assert_eq!(planned.get("mode"), &Value::string("none"));
    assert_eq!(planned.get("flag"), &Value::Bool(false));
    assert_eq!(planned.get("kept"), &Value::string("chosen"));
    assert!(planned.get("plain").is_null());
}

#[test]
fn schema_defaults_apply_inside_nested_blocks_that_exist() {
    let inner = Block::new("n").attribute(
        Attribute::number("ttl")
            .optional()
            .computed()
            .default(Value::int(30)),
    );
    let block = Block::new("d")
        .block(NestedBlock::single("one", inner.clone()))
        .block(NestedBlock::single("absent", inner.clone()))
        .block(NestedBlock::list("many", inner));
    let ttl = |v: Value| Value::Object([("ttl".to_owned(), v)].into());
    let mut planned = Value::Object(
        [
            ("one".to_owned(), ttl(Value::Unknown)),
            ("absent".to_owned(), Value::Null),
            (
                "many".to_owned(),
                Value::List(vec![ttl(Value::Null), ttl(Value::int(5))]),
            ),
        ]
        .into(),
    );
    apply_defaults(&block, &mut planned);
    assert_eq!(planned.get("one").get("ttl"), &Value::int(30));
    assert!(planned.get("absent").is_null());
    let many: Vec<&Value> = planned
        .get("many")
        .elements()
        .iter()
        .map(|m| m.get("ttl"))
        .collect();
    assert_eq!(many, [&Value::int(30), &Value::int(5)]);
}
