//! The use cases against the embedded stores: upload, vote, promote, lifecycle, distribute, mail,
//! managing projects, people and keys.
//! One test binary per crate: every test file is a module here, so the workspace links
//! one executable instead of one per file (link time and disk on a 2-core CI machine).

mod api_snapshots;
mod authenticate;
mod cve;
mod distribute;
mod lifecycle;
mod mail;
mod manage;
mod promote;
mod retry;
mod stream_file;
mod tasks;
mod upload_commit;
mod verify_streams;
mod vote;
mod vote_mail;
