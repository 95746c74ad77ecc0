//! usage: onnx2burn-centernet MODEL.onnx OUT_DIR
//! Writes OUT_DIR/<name>.rs and OUT_DIR/<name>.bpk. Weights are loaded at run time from a path
//! the caller chooses (`LoadStrategy::Bytes`), never from the build directory.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: {} MODEL.onnx OUT_DIR", args[0]);
        std::process::exit(2);
    }
    burn_onnx::ModelGen::new()
        .input(&args[1])
        .out_dir(&args[2])
        .load_strategy(burn_onnx::LoadStrategy::Bytes)
        .run_from_cli();
}
