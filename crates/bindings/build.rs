//! The `sol!` macro reads `abi/*.json` at expansion time but does not tell cargo, so a regenerated
//! ABI would not rebuild the crate: declare the dependency here.
fn main() {
    println!("cargo:rerun-if-changed=abi");
    println!("cargo:rerun-if-changed=contracts.txt");
}
