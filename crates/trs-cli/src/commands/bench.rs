//! `trs bench verify`: trs's verification throughput next to the tools release managers use
//! by hand, measured in the same run on the same files.

use crate::error::{CliError, CliResult, failed};
use crate::output;

pub fn verify(size: &str, files: usize, dir: Option<&std::path::Path>, as_json: bool) -> CliResult<()> {
    let size = trs_checks::bench::parse_size(size).map_err(CliError::Usage)?;
    let tmp;
    let workdir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            tmp = tempfile::tempdir().map_err(failed)?;
            tmp.path().to_path_buf()
        }
    };
    let report = trs_checks::bench::run_verify_bench(size, files, &workdir).map_err(failed)?;
    if as_json {
        output::json(&report);
    } else {
        say!("{report}");
    }
    Ok(())
}
