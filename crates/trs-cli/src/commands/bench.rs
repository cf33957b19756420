//! `trs bench verify`: trs's verification throughput next to the tools release managers use
//! by hand, measured in the same run on the same files.

use crate::error::{CliError, CliResult, failed};
use crate::output;

/// Parses sizes such as `1GiB`, `256MiB`, `10MB`, `4096`.
pub fn parse_size(s: &str) -> CliResult<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| CliError::Usage(format!("bad size {s:?}")))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "kb" => 1000,
        "m" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        _ => return Err(CliError::Usage(format!("bad size unit in {s:?}; use e.g. 256MiB or 1GiB"))),
    };
    Ok(n * mult)
}

pub fn verify(size: &str, files: usize, dir: Option<&std::path::Path>, as_json: bool) -> CliResult<()> {
    let size = parse_size(size)?;
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
        println!("{report}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("256MiB").unwrap(), 256 << 20);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("GiB").is_err());
    }
}
