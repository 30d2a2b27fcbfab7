//! `chart-studio`: a command-line client for Plotly Chart Studio servers.

fn main() -> std::process::ExitCode {
    chart_studio_cli::main()
}
