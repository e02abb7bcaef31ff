//! `claystack beacon-sim`.

/// Flags of `claystack beacon-sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `claystack beacon-sim`.
pub(crate) async fn run(_args: Args) -> eyre::Result<()> {
    eyre::bail!("beacon-sim is not available in this build yet")
}
