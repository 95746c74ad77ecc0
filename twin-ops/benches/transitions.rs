//! Case transitions per second, each command encoded and decoded as the log does.
//!
//! `cargo bench -p twin-ops --bench transitions`
#![allow(clippy::unwrap_used)] // tests may unwrap: a panic is a failure with a message

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use twin_core::{ActorId, AgencyId, Position, Severity, Timestamp};
use twin_ops::{
    decode, encode, CaseAction, CaseCommand, CaseId, Command, OpenCase, OpsState, Priority, Source, VERSION,
};

fn open(i: u64) -> Command {
    Command::OpenCase(OpenCase {
        source: Source::CitizenReport,
        key: format!("report:r-{i}"),
        category: "pothole".into(),
        title: "pothole on Nguyễn Văn Linh".into(),
        severity: Severity::Moderate,
        priority: Priority::Normal,
        agency: AgencyId("transport".into()),
        commune: Some("20194".into()),
        location: Some(Position::new(108.2208, 16.0678)),
        area: None,
        ack_within_ms: 3_600_000,
        resolve_within_ms: 86_400_000,
        attachments: Vec::new(),
    })
}

fn lifecycle(case: CaseId) -> [Command; 5] {
    let step = |version, action| Command::Case(CaseCommand { case, expected_version: Some(version), action });
    [
        step(1, CaseAction::Acknowledge { note: None }),
        step(
            2,
            CaseAction::Assign {
                agency: None,
                assignee: Some(ActorId("user:bao".into())),
                ack_within_ms: None,
                note: None,
            },
        ),
        step(3, CaseAction::Start { note: Some("crew on site".into()) }),
        step(4, CaseAction::Resolve { disposition: "patched".into() }),
        step(5, CaseAction::Close { note: None }),
    ]
}

fn bench(c: &mut Criterion) {
    let actor = ActorId("user:an".into());
    let mut g = c.benchmark_group("case_transitions");
    // One iteration: open a case and take it through its five transitions = 6 commands.
    g.throughput(Throughput::Elements(6));
    g.bench_function("open_to_closed_with_codec", |b| {
        let mut state = OpsState::default();
        let mut i = 0u64;
        b.iter(|| {
            let id = CaseId(i);
            let mut cmds = vec![open(i)];
            cmds.extend(lifecycle(id));
            for cmd in &cmds {
                let payload = encode(cmd);
                let decoded = decode(VERSION, &payload).unwrap();
                state.check(Timestamp(i as i64), &actor, &decoded).unwrap();
                black_box(state.apply(Timestamp(i as i64), &actor, &decoded).unwrap());
            }
            i += 1;
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
