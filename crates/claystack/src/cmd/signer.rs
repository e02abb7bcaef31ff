//! `claystack signer` subcommands.

use clap::Subcommand;

/// `claystack signer` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {}

/// Runs a `claystack signer` subcommand.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {}
}
