//! Decoded sentences per second for position reports (types 1–3), the bulk of any AIS feed.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use twin_core::Timestamp;
use twin_ingest::ais::{armor::Bits, decode_bits, parse_sentence, Decoder};

// Real type 1/2/3 sentences from the gpsd and pyais samples (tests/data/ais).
const LINES: [&str; 8] = [
    "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
    "!AIVDM,1,1,,A,16SteH0P00Jt63hHaa6SagvJ087r,0*42",
    "!AIVDM,1,1,,B,25Cjtd0Oj;Jp7ilG7=UkKBoB0<06,0*60",
    "!AIVDM,1,1,,A,38Id705000rRVJhE7cl9n;160000,0*40",
    "!AIVDM,1,1,,A,33P;Tw0tjBQO22:E7dm66DrB20UP,0*2E",
    "!AIVDM,1,1,,B,35VwAv0300QcEQ`EGcpN40jD0PUQ,0*61",
    "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C",
    "!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23",
];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ais_type1_3");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    g.bench_function("decoder_push", |b| {
        let mut decoder = Decoder::default();
        let now = Timestamp::from_millis(0);
        b.iter(|| {
            for line in LINES {
                let r = decoder.push(black_box(line), now);
                black_box(&r);
            }
        })
    });
    g.bench_function("parse_and_decode", |b| {
        b.iter(|| {
            for line in LINES {
                let s = parse_sentence(black_box(line)).ok();
                let m = s.and_then(|s| Bits::from_armored(s.payload, s.fill_bits).ok()).map(|bits| decode_bits(&bits));
                black_box(&m);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
