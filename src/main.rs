//! The `stancekit` command: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    stancekit::cli::main()
}
