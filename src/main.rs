//! The `ponte` command; everything it does is in `ponte::cli`.

fn main() -> std::process::ExitCode {
    ponte::cli::commands::main()
}
