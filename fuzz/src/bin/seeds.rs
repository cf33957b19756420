//! `trs-fuzz-seeds DIR`: writes the seeds ([`trs_fuzz::seeds`]) into `DIR/<target>/seed-<name>`
//! (existing files are kept), the start of each corpus.

fn main() -> std::io::Result<()> {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: trs-fuzz-seeds DIR (fuzz/corpus)");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    for (target, name, bytes) in trs_fuzz::seeds::all() {
        let folder = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(format!("seed-{name}")), bytes)?;
    }
    Ok(())
}
