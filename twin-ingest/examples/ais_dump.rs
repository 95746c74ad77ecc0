//! Prints every decode of a capture file as gpsd-style JSON, errors as `{"error", "line"}`.

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: ais_dump FILE");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(path)?;
    for r in twin_ingest::ais::decode_text(&text) {
        match r {
            Ok(d) => println!("{}", twin_ingest::ais::to_gpsd_json(&d.message)),
            Err(e) => println!("{}", twin_ingest::ais::error_to_json(&e)),
        }
    }
    Ok(())
}
