//! The container image's promises (issue 18), checked on its files: Docker
//! itself is not needed. The build context leaves `target/` out; the
//! dependencies build in a layer before Ponte's sources arrive; the binary is
//! stripped; the non-root user owns its directory and the data volume; `run`
//! takes the data directory from the environment; the health check has an
//! address to ask in the example configuration.

const DOCKERFILE: &str = include_str!("../Dockerfile");
const DOCKERIGNORE: &str = include_str!("../.dockerignore");
const COMPOSE: &str = include_str!("../compose.yaml");
const CARGO: &str = include_str!("../Cargo.toml");

fn position(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the Dockerfile"))
}

#[test]
fn the_image_is_built_and_run_as_documented() {
    assert!(DOCKERIGNORE.lines().any(|l| l.trim() == "target/"));
    assert!(DOCKERIGNORE.lines().any(|l| l.trim() == ".git/"));
    // Dependencies first, then the sources.
    let deps = position(DOCKERFILE, "cargo build --release --locked --bin ponte");
    assert!(deps < position(DOCKERFILE, "COPY src ./src"));
    assert!(position(DOCKERFILE, "COPY Cargo.toml Cargo.lock ./") < deps);
    assert!(DOCKERFILE.contains("touch src/main.rs src/lib.rs"));
    // Stripped.
    let release = CARGO
        .split("[profile.release]")
        .nth(1)
        .expect("a release profile");
    let release = release.split("\n[").next().unwrap();
    assert!(release.contains("strip = true"), "{release}");
    // Non-root, owning its directory and the volume.
    assert!(DOCKERFILE.contains("USER ponte"));
    assert!(DOCKERFILE.contains("chown -R ponte:ponte /var/lib/ponte"));
    assert!(position(DOCKERFILE, "USER ponte") < position(DOCKERFILE, "WORKDIR /var/lib/ponte"));
    assert!(DOCKERFILE.contains("VOLUME [\"/var/lib/ponte\"]"));
    assert!(DOCKERFILE.contains("PONTE_DATA_DIR=/var/lib/ponte/data"));
    assert!(DOCKERFILE.contains("CMD [\"ponte\", \"healthcheck\"]"));
    assert!(COMPOSE.contains("[\"CMD\", \"ponte\", \"healthcheck\"]"));
    assert!(COMPOSE.contains("ponte-data:/var/lib/ponte"));
}

#[test]
fn run_takes_the_data_directory_from_the_environment_and_the_example_has_a_health_addr() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ponte"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("[env: PONTE_DATA_DIR="), "{help}");
    let example = ponte::config::Config::from_toml_str(
        include_str!("../config/ponte.example.toml"),
        "ponte.example.toml",
    )
    .unwrap();
    assert!(example.health_addr().is_some_and(|a| a.ip().is_loopback()));
}
