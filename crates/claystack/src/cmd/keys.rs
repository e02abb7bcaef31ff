//! `claystack keys` subcommands.

use clap::Subcommand;

/// `claystack keys` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {}

/// Runs a `claystack keys` subcommand.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {}
}
