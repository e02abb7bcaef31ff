//! `claystack devnet`.

/// Flags of `claystack devnet`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `claystack devnet`.
pub(crate) async fn run(_args: Args) -> eyre::Result<()> {
    eyre::bail!("devnet is not available in this build yet")
}
