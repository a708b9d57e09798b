//! Two link settings for the release binary only; debug builds and tests link as before.
//!
//! 1. A fixed-address (non-PIE) executable: the dynamic loader then has no relocation table
//!    to walk at start-up and no relocated read-only data to copy into private pages, which
//!    keeps about a megabyte out of the resident set (see the README's figures). Stack, heap
//!    and shared libraries are still placed at random; only the binary's own code and data
//!    have a fixed address.
//!
//! 2. A profile-driven function order: `release-order.txt` lists (mangled) the functions the
//!    console runs from start-up through idle and a few common keys, and the linker (rust-lld,
//!    the default on x86_64 Linux; every function is in its own section) places them
//!    together at the front of `.text`. Without it that code is scattered over the whole
//!    binary, and since the kernel maps a touched page's 64-128 KB neighbourhood, 10.1 of
//!    the 12.6 MiB of code were resident at idle (3.4 MiB with it). `scripts/order-functions` regenerates the file (it
//!    runs the demo under valgrind; the build never does). A stale file costs memory, never
//!    correctness: the order only moves functions, names that no longer exist are skipped
//!    (`--no-warn-symbol-ordering`), and functions it does not list go after those it does.
//!    Names are mangled (legacy; v0 for std's) with a hash of the function's crate (its
//!    name, version and cargo's `-C metadata`, which does not depend on where the checkout
//!    is: a list made from another worktree's build matched every name) and its type,
//!    so editing a function's body keeps its name (checked: a line added to the body of
//!    `render` and of `apply` left all 21,269 function names of the binary as they were);
//!    renaming or moving it, changing its signature, or a dependency's version changes the
//!    names of what it touches. The order is read by release builds only.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    println!("cargo:rerun-if-changed=release-order.txt");
    println!("cargo:rustc-link-arg-bins=-no-pie");
    // rust-lld is the default linker of this target only; GNU ld would reject the option,
    // and a build that picks its own linker (RUSTFLAGS) keeps its own choice.
    let lld = std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && !std::env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|f| f.contains("link"));
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let order = std::path::Path::new(&dir).join("release-order.txt");
    if lld && order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
