fn main() -> std::process::ExitCode {
    tenantatlas::doors::cli::main()
}
