//! The deployment files `gen new` writes (Dockerfile, .dockerignore, fly.toml, the README's Fly.io
//! steps), checked without a Docker engine: parsed, held against each other and the generated
//! router, and the Dockerfile's own build command run, its runtime stage rebuilt from its COPY lines.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Tree;
use support::app::{apps_target, free_port, get, post, serve};

/// The name given to `gen new`; its dash makes the Fly app name (`fly-chat`) and the crate and
/// binary name (`fly_chat`) differ, so a test cannot pass by confusing the two.
const APP: &str = "fly-chat";
const CRATE: &str = "fly_chat";

/// One Dockerfile instruction, with continuation lines joined.
#[derive(Debug, Clone)]
struct Instruction {
    keyword: String,
    args: String,
}

/// One build stage: `FROM base AS name` and what follows it.
#[derive(Debug)]
struct Stage {
    name: String,
    base: String,
    instructions: Vec<Instruction>,
}

impl Stage {
    fn all<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.instructions
            .iter()
            .filter(move |i| i.keyword == keyword)
            .map(|i| i.args.as_str())
    }

    /// The stage's RUN lines that start with `command`.
    fn runs(&self, command: &str) -> Vec<&str> {
        self.all("RUN")
            .filter(|args| args.starts_with(command))
            .collect()
    }

    /// `ENV` values, in both the `KEY=value …` and the legacy `KEY value` forms.
    fn env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for args in self.all("ENV") {
            if args
                .split_whitespace()
                .next()
                .is_some_and(|w| w.contains('='))
            {
                for pair in args.split_whitespace() {
                    let (key, value) = pair.split_once('=').expect("KEY=value");
                    env.insert(key.to_owned(), value.trim_matches('"').to_owned());
                }
            } else {
                let (key, value) = args.split_once(' ').expect("ENV KEY value");
                env.insert(key.to_owned(), value.trim().to_owned());
            }
        }
        env
    }
}

/// Parses the subset of Dockerfile syntax the generated file uses: comments, continuation lines,
/// and instructions grouped under their `FROM … AS …` stage.
fn parse_dockerfile(text: &str) -> Vec<Stage> {
    let mut logical = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head.trim());
                pending.push(' ');
            }
            None => {
                pending.push_str(trimmed);
                logical.push(std::mem::take(&mut pending));
            }
        }
    }
    assert!(
        pending.is_empty(),
        "the Dockerfile ends inside a continuation"
    );

    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, args) = line.split_once(' ').unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let args = args.split_whitespace().collect::<Vec<_>>().join(" ");
        if keyword == "FROM" {
            let words: Vec<&str> = args.split(' ').collect();
            assert!(
                words.len() == 3 && words[1].eq_ignore_ascii_case("AS"),
                "every stage is named: FROM {args}"
            );
            stages.push(Stage {
                name: words[2].to_owned(),
                base: words[0].to_owned(),
                instructions: Vec::new(),
            });
        } else {
            stages
                .last_mut()
                .expect("instructions come after a FROM")
                .instructions
                .push(Instruction { keyword, args });
        }
    }
    stages
}

fn stage<'a>(stages: &'a [Stage], name: &str) -> &'a Stage {
    stages
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("the Dockerfile has a stage named {name}"))
}

/// The working directory a stage's instructions run in, inherited along its `FROM` chain.
fn workdir(stages: &[Stage], name: &str) -> String {
    let stage = stage(stages, name);
    match stage.all("WORKDIR").last() {
        Some(dir) => dir.to_owned(),
        None if stages.iter().any(|s| s.name == stage.base) => workdir(stages, &stage.base),
        None => "/".to_owned(),
    }
}

/// A runtime `COPY --from=STAGE SRC DEST` line.
#[derive(Debug)]
struct Copy {
    from: String,
    src: String,
    dest: String,
}

fn copies(runtime: &Stage) -> Vec<Copy> {
    runtime
        .all("COPY")
        .map(|args| {
            let words: Vec<&str> = args.split(' ').collect();
            let from = words
                .iter()
                .find_map(|w| w.strip_prefix("--from="))
                .unwrap_or_else(|| panic!("the runtime stage copies from a build stage: {args}"));
            let paths: Vec<&str> = words
                .iter()
                .copied()
                .filter(|w| !w.starts_with("--"))
                .collect();
            assert_eq!(
                paths.len(),
                2,
                "one source and one destination: COPY {args}"
            );
            Copy {
                from: from.to_owned(),
                src: paths[0].to_owned(),
                dest: paths[1].to_owned(),
            }
        })
        .collect()
}

/// A freshly generated app with one resource, in its own temporary directory.
struct Generated {
    _parent: tempfile::TempDir,
    dir: PathBuf,
}

impl Generated {
    fn new() -> Generated {
        let parent = tempfile::tempdir().unwrap();
        support::gen_ok(parent.path(), &["new", APP]);
        let dir = parent.path().join(APP);
        support::gen_ok(&dir, &["resource", "room", "name:string"]);
        Generated {
            _parent: parent,
            dir,
        }
    }

    /// The same app generated with `--database postgres`.
    fn postgres() -> Generated {
        let parent = tempfile::tempdir().unwrap();
        support::gen_ok(parent.path(), &["new", APP, "--database", "postgres"]);
        let dir = parent.path().join(APP);
        support::gen_ok(&dir, &["resource", "room", "name:string"]);
        Generated {
            _parent: parent,
            dir,
        }
    }

    fn text(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.join(path)).unwrap()
    }

    fn dockerfile(&self) -> Vec<Stage> {
        parse_dockerfile(&self.text("Dockerfile"))
    }

    fn fly(&self) -> toml::Table {
        toml::from_str(&self.text("fly.toml")).expect("fly.toml parses")
    }
}

fn table<'a>(value: &'a toml::Table, key: &str) -> &'a toml::Table {
    value[key]
        .as_table()
        .unwrap_or_else(|| panic!("fly.toml has a [{key}] table"))
}

fn string<'a>(table: &'a toml::Table, key: &str) -> &'a str {
    table
        .get(key)
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("fly.toml sets {key} to a string"))
}

/// The paths the generated router serves directly, from its `.route("…"` calls.
/// The comment lines of a TOML file, where the reasons for its settings are written.
fn comment_lines(text: &str) -> String {
    text.lines()
        .filter(|l| l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn router_paths(app_rs: &str) -> Vec<String> {
    app_rs
        .split(".route(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[test]
fn fly_toml_has_what_the_app_and_the_image_expect() {
    let app = Generated::new();
    let fly = app.fly();
    let stages = app.dockerfile();
    let image_env = stage(&stages, "runtime").env();

    assert_eq!(
        string(&fly, "app"),
        APP,
        "the Fly app is named after the app"
    );
    assert!(!string(&fly, "primary_region").is_empty());
    let dockerfile = string(table(&fly, "build"), "dockerfile");
    assert!(
        app.dir.join(dockerfile).is_file(),
        "[build] names {dockerfile}"
    );

    let env = table(&fly, "env");
    assert_eq!(string(env, "APP_ENV"), "production");
    let port: u16 = string(env, "PORT").parse().expect("PORT is a number");
    let service = table(&fly, "http_service");
    assert_eq!(
        service["internal_port"].as_integer(),
        Some(i64::from(port)),
        "Fly's proxy forwards to the port the app listens on"
    );
    assert_eq!(image_env["PORT"], port.to_string(), "Dockerfile ENV PORT");
    // Fly's [env] overrides the image's ENV, so the two must not tell different stories.
    for (key, value) in &image_env {
        if let Some(fly_value) = env.get(key) {
            assert_eq!(fly_value.as_str(), Some(value.as_str()), "{key}");
        }
    }

    assert_eq!(service["force_https"].as_bool(), Some(true));
    assert_eq!(service["auto_start_machines"].as_bool(), Some(true));
    let auto_stop = &service["auto_stop_machines"];
    assert!(
        auto_stop.as_bool().is_some()
            || ["off", "stop", "suspend"].contains(&auto_stop.as_str().unwrap_or_default()),
        "auto_stop_machines is a value Fly accepts: {auto_stop}"
    );
    assert!(service["min_machines_running"].as_integer().unwrap() >= 0);

    let checks = service["checks"]
        .as_array()
        .expect("[[http_service.checks]]");
    assert_eq!(checks.len(), 1);
    let check = checks[0].as_table().unwrap();
    assert_eq!(string(check, "method"), "GET");
    let routes = router_paths(&app.text("src/app.rs"));
    assert!(
        routes.iter().any(|r| r == string(check, "path")),
        "the health check's path {} is a route of src/app.rs: {routes:?}",
        string(check, "path")
    );

    let mounts = table(&fly, "mounts");
    let destination = string(mounts, "destination");
    let database_url = string(env, "DATABASE_URL");
    assert!(
        database_url.starts_with(&format!("sqlite://{destination}/")),
        "the database ({database_url}) is on the volume mounted at {destination}"
    );
    let vm = fly["vm"].as_array().expect("[[vm]]")[0].as_table().unwrap();
    assert!(vm.contains_key("size") || vm.contains_key("memory"));

    // The why of one machine is written where someone about to add a second one will look.
    let comments = comment_lines(&app.text("fly.toml"));
    for needle in ["REDIS_URL", "Redis", "Postgres", "volume"] {
        assert!(
            comments.contains(needle),
            "fly.toml's comment mentions {needle}"
        );
    }

    // The README's volume is the one [mounts] attaches, in the region machines start in.
    let readme = app.text("README.md");
    let volume_line = readme
        .lines()
        .find(|l| l.starts_with("fly volumes create "))
        .expect("the README creates the volume");
    let words: Vec<&str> = volume_line.split_whitespace().collect();
    assert_eq!(words[3], string(mounts, "source"), "{volume_line}");
    let region = words
        .windows(2)
        .find(|w| w[0] == "--region")
        .map(|w| w[1])
        .expect("the volume is created in a named region");
    assert_eq!(region, string(&fly, "primary_region"), "{volume_line}");
}

#[test]
fn the_readme_gives_the_deploy_commands_and_the_secrets() {
    let app = Generated::new();
    let readme = app.text("README.md");
    let section = support::app::between(&readme, "## Deploy to Fly.io", "\n## Add a resource")
        .expect("the README has a Deploy to Fly.io section");
    let commands: Vec<&str> = section.lines().filter(|l| l.starts_with("fly ")).collect();
    for command in [
        "fly launch --no-deploy",
        "fly volumes create",
        "fly redis create",
        "fly secrets set REDIS_URL=",
        "fly deploy",
        "fly scale count 2",
        "fly machine list",
    ] {
        assert!(
            commands.iter().any(|c| c.starts_with(command)),
            "the section runs `{command}`: {commands:?}"
        );
    }
    let secrets = commands
        .iter()
        .find(|c| c.starts_with("fly secrets set"))
        .unwrap();
    assert!(secrets.contains("SECRET_KEY_BASE=$(openssl rand -hex 64)"));
    for secret in ["`SECRET_KEY_BASE`", "`REDIS_URL`"] {
        assert!(
            section
                .lines()
                .any(|l| l.starts_with(&format!("| {secret}"))),
            "the secrets table explains {secret}"
        );
    }
    assert!(section.contains("Postgres"), "the two-machine caveat");
    assert!(section.contains("fly-force-instance-id"));
}

/// A Postgres app keeps nothing on the machine: no volume in `fly.toml` or the image, the
/// database URL is the secret `fly postgres attach` sets, and the README creates and attaches
/// the cluster next to Redis, for as many machines as the app needs.
#[test]
fn a_postgres_app_deploys_without_a_volume_and_attaches_its_database() {
    let app = Generated::postgres();
    let fly = app.fly();
    assert!(!fly.contains_key("mounts"), "no volume: {fly:?}");
    let env = table(&fly, "env");
    assert!(
        !env.contains_key("DATABASE_URL"),
        "DATABASE_URL is the secret `fly postgres attach` sets, not a value in fly.toml"
    );
    assert_eq!(string(env, "APP_ENV"), "production");
    let comments = comment_lines(&app.text("fly.toml"));
    for needle in [
        "Postgres",
        "fly postgres attach",
        "DATABASE_URL",
        "REDIS_URL",
    ] {
        assert!(
            comments.contains(needle),
            "fly.toml's comment mentions {needle}"
        );
    }
    assert!(!app.text("fly.toml").contains("sqlite"));

    let stages = app.dockerfile();
    let runtime = stage(&stages, "runtime");
    assert!(
        !runtime.env().contains_key("DATABASE_URL"),
        "{:?}",
        runtime.env()
    );
    assert!(
        runtime.all("RUN").all(|run| !run.contains("/data")),
        "the image makes no directory for a volume"
    );
    let dockerignore = app.text(".dockerignore");
    assert!(!dockerignore.contains("sqlite"), "{dockerignore}");
    assert!(dockerignore.contains(".secret_key_base"), "{dockerignore}");

    let readme = app.text("README.md");
    let section = support::app::between(&readme, "## Deploy to Fly.io", "\n## Add a resource")
        .expect("the README has a Deploy to Fly.io section");
    let commands: Vec<&str> = section.lines().filter(|l| l.starts_with("fly ")).collect();
    let position = |prefix: &str| {
        commands
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("the section runs `{prefix}`: {commands:?}"))
    };
    let create = position("fly postgres create");
    let attach = position("fly postgres attach");
    let redis = position("fly redis create");
    let deploy = position("fly deploy");
    assert!(position("fly launch --no-deploy") < create);
    assert!(
        create < attach && attach < deploy && redis < deploy,
        "{commands:?}"
    );
    assert!(
        !commands.iter().any(|c| c.starts_with("fly volumes")),
        "{commands:?}"
    );
    // `attach` names the cluster `create` made, in the region the machines start in.
    let words: Vec<&str> = commands[create].split_whitespace().collect();
    let flag = |name: &str| {
        words
            .windows(2)
            .find(|w| w[0] == name)
            .map(|w| w[1])
            .unwrap_or_else(|| panic!("{} has {name}", commands[create]))
    };
    assert_eq!(
        commands[attach],
        format!("fly postgres attach {}", flag("--name"))
    );
    assert_eq!(flag("--region"), string(&fly, "primary_region"));
    assert!(
        !commands[deploy].contains("--ha=false"),
        "several machines are the point: {}",
        commands[deploy]
    );
    for secret in ["`DATABASE_URL`", "`SECRET_KEY_BASE`", "`REDIS_URL`"] {
        assert!(
            section
                .lines()
                .any(|l| l.starts_with(&format!("| {secret}"))),
            "the secrets table explains {secret}"
        );
    }
    assert!(section.contains("fly-force-instance-id"));
    assert!(
        readme.contains("does\nnot switch an existing app between SQLite and Postgres"),
        "the README says the database cannot be switched"
    );
}

#[test]
fn the_dockerfile_builds_with_cargo_chef_and_runs_as_a_user() {
    let app = Generated::new();
    let stages = app.dockerfile();
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["chef", "planner", "cook", "build", "runtime"]);

    let chef = stage(&stages, "chef");
    assert!(chef.base.starts_with("lukemathwalker/cargo-chef:"));
    // The binary is linked against the builder's glibc, so both sides are the same Debian.
    assert!(chef.base.ends_with("-bookworm"), "{}", chef.base);
    assert_eq!(stage(&stages, "planner").base, "chef");
    assert_eq!(stage(&stages, "cook").base, "chef");
    assert_eq!(stage(&stages, "build").base, "cook");
    assert_eq!(stage(&stages, "runtime").base, "debian:bookworm-slim");

    assert_eq!(
        stage(&stages, "planner").runs("cargo chef prepare"),
        ["cargo chef prepare --recipe-path recipe.json"]
    );
    let cook = stage(&stages, "cook");
    assert!(
        cook.all("COPY")
            .any(|c| c.starts_with("--from=planner ") && c.contains("recipe.json"))
    );
    assert_eq!(
        cook.runs("cargo chef cook"),
        ["cargo chef cook --release --recipe-path recipe.json"]
    );
    let build = stage(&stages, "build");
    assert_eq!(build.runs("cargo build").len(), 1);
    assert!(build.runs("cargo build")[0].starts_with("cargo build --release "));

    let runtime = stage(&stages, "runtime");
    assert!(
        runtime
            .runs("apt-get update")
            .iter()
            .any(|r| r.contains("install -y --no-install-recommends ca-certificates")),
        "the runtime installs ca-certificates"
    );
    let copies = copies(runtime);
    assert!(copies.iter().all(|c| c.from == "build"), "{copies:?}");
    let build_dir = workdir(&stages, "build");
    let binary = format!("{build_dir}/target/release/{CRATE}");
    let installed = copies
        .iter()
        .find(|c| c.src == binary)
        .unwrap_or_else(|| panic!("the runtime copies {binary}: {copies:?}"));
    let cmd: Vec<String> = exec_form(runtime.all("CMD").last().expect("a CMD"));
    assert_eq!(
        cmd,
        std::slice::from_ref(&installed.dest),
        "CMD runs the copied binary"
    );

    // Every directory the router serves files from at run time is in the image, relative to
    // the working directory the binary starts in.
    let app_rs = app.text("src/app.rs");
    let served: Vec<&str> = app_rs
        .split("static_files(\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(!served.is_empty(), "src/app.rs serves static files");
    for dir in served {
        assert!(
            copies.iter().any(|c| {
                let dest = c.dest.trim_start_matches("./").trim_end_matches('/');
                dir == dest || dir.starts_with(&format!("{dest}/"))
            }),
            "the runtime stage copies {dir}/ next to the binary's working directory: {copies:?}"
        );
    }

    let user = runtime.all("USER").last().expect("the runtime sets USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "root" && uid != "0",
        "the app does not run as root: USER {user}"
    );
    let last_user = runtime
        .instructions
        .iter()
        .rposition(|i| i.keyword == "USER");
    let last_cmd = runtime
        .instructions
        .iter()
        .rposition(|i| i.keyword == "CMD");
    assert!(last_user < last_cmd, "USER comes before CMD");
    assert_eq!(
        runtime.all("EXPOSE").collect::<Vec<_>>(),
        [runtime.env()["PORT"].as_str()],
        "EXPOSE is the port the app listens on"
    );
}

/// Reads the exec form of `CMD ["a", "b"]`; a shell-form CMD would run under `/bin/sh -c` and
/// fail here, since the runtime image should start the binary directly to receive SIGTERM.
fn exec_form(args: &str) -> Vec<String> {
    let inner = args
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or_else(|| panic!("CMD uses the exec form: {args}"));
    inner
        .split(',')
        .map(|item| {
            item.trim()
                .strip_prefix('"')
                .and_then(|i| i.strip_suffix('"'))
                .expect("a quoted item")
                .to_owned()
        })
        .collect()
}

/// Whether a `.dockerignore` pattern excludes `path`, for the patterns gen writes: a leading `/`
/// or `**/`, and `*` within a name.
fn ignores(pattern: &str, path: &str) -> bool {
    let anywhere = pattern.starts_with("**/");
    let pattern = pattern.trim_start_matches("**/").trim_start_matches('/');
    let candidates: Vec<&str> = if anywhere {
        path.split('/').collect()
    } else {
        vec![path.split('/').next().unwrap()]
    };
    candidates.iter().any(|name| glob(pattern, name))
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|at| glob(tail, &name[head.len() + at..]))
        }
    }
}

#[test]
fn the_dockerignore_keeps_local_data_out_and_the_sources_in() {
    let app = Generated::new();
    let patterns: Vec<String> = app
        .text(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let ignored = |path: &str| patterns.iter().any(|p| ignores(p, path));
    for path in [
        "target/release/fly_chat",
        ".git/HEAD",
        "storage/development.sqlite3",
        "storage/development.sqlite3-wal",
        "backup.sqlite3",
        ".secret_key_base",
        ".env",
        ".env.production",
    ] {
        assert!(ignored(path), "{path} stays out of the image");
    }
    for entry in std::fs::read_dir(&app.dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!ignored(&name), "{name} is part of the build context");
    }
    assert!(
        !ignored("Cargo.lock"),
        "the lock file pins the image's build"
    );
}

/// Copies a file or a directory tree, keeping the file modes (the binary stays executable).
fn copy_path(from: &Path, to: &Path) {
    if from.is_dir() {
        support::copy_tree(from, to);
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

/// Maps an absolute path in the image to the temporary directory that stands for its root.
fn in_image(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// Runs `command` to its end, failing the test rather than hanging if it does not exit.
fn run_to_exit(mut command: Command) -> (bool, String) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the binary kept running without SECRET_KEY_BASE");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.success(), stderr)
}

#[test]
fn the_image_built_as_the_dockerfile_says_serves_from_only_what_it_copies() {
    let app = Generated::new();
    let stages = app.dockerfile();
    let fly = app.fly();

    // The build stage's command, word for word, with the target directory the suite shares.
    let build_line = stage(&stages, "build").runs("cargo build")[0].to_owned();
    assert!(
        !build_line.contains(['&', ';', '|', '$', '`', '>', '<']),
        "the build is one plain command: {build_line}"
    );
    let words: Vec<&str> = build_line.split_whitespace().collect();
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO"));
    let output = support::app::without_package_env(&mut command)
        .args(&words[1..])
        .current_dir(&app.dir)
        .env("CARGO_TARGET_DIR", apps_target())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{build_line} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let binary_size = std::fs::metadata(apps_target().join("release").join(CRATE))
        .unwrap()
        .len();
    eprintln!(
        "benchmark: `{build_line}` took {:.1}s; the release binary is {:.1} MB (goal: under 20 MB stripped)",
        started.elapsed().as_secs_f64(),
        binary_size as f64 / 1_000_000.0
    );

    // An empty directory stands for the image's root; only the runtime stage's COPY lines fill it.
    let root = tempfile::tempdir().unwrap();
    let build_dir = workdir(&stages, "build");
    let runtime = stage(&stages, "runtime");
    let runtime_dir = workdir(&stages, "runtime");
    for copy in copies(runtime) {
        assert_eq!(copy.from, "build");
        let relative = match copy.src.strip_prefix(&format!("{build_dir}/")) {
            Some(relative) => relative.to_owned(),
            None if !copy.src.starts_with('/') => copy.src.clone(),
            None => panic!("{} is outside the build's working directory", copy.src),
        };
        // CARGO_TARGET_DIR moves `target/` out of the app; everything else is the app's source.
        let source = match relative.strip_prefix("target/") {
            Some(built) => apps_target().join(built),
            None => app.dir.join(&relative),
        };
        assert!(source.exists(), "the build produced {}", copy.src);
        let dest = if copy.dest.starts_with('/') {
            in_image(root.path(), &copy.dest)
        } else {
            in_image(root.path(), &runtime_dir).join(copy.dest.trim_start_matches("./"))
        };
        copy_path(&source, &dest);
    }

    // The image's ENV, overlaid by fly.toml's [env] as Fly does; a free loopback port replaces
    // PORT, and the volume's mount point is a directory under the stand-in root.
    let mut env = runtime.env();
    for (key, value) in table(&fly, "env") {
        env.insert(key.clone(), value.as_str().unwrap().to_owned());
    }
    let destination = string(table(&fly, "mounts"), "destination");
    let volume = in_image(root.path(), destination);
    std::fs::create_dir_all(&volume).unwrap();
    let database_url = env["DATABASE_URL"].replacen(
        &format!("sqlite://{destination}/"),
        &format!("sqlite://{}/", volume.display()),
        1,
    );
    assert_ne!(
        database_url, env["DATABASE_URL"],
        "the database is on the volume"
    );
    env.insert("DATABASE_URL".into(), database_url);
    let port = free_port();
    env.insert("PORT".into(), port.to_string());

    let cmd = exec_form(runtime.all("CMD").last().unwrap());
    let program = in_image(root.path(), &cmd[0]);
    let workdir_path = in_image(root.path(), &runtime_dir);
    // WORKDIR creates the directory in the image even when nothing is copied into it.
    std::fs::create_dir_all(&workdir_path).unwrap();
    let before = Tree::read(&workdir_path);
    let image_command = || {
        let mut command = Command::new(&program);
        command
            .args(&cmd[1..])
            .current_dir(&workdir_path)
            .env_clear();
        command
    };

    let mut command = image_command();
    command
        .envs(&env)
        .env("SECRET_KEY_BASE", "0123456789abcdef".repeat(8))
        // The requests below name the machine by its loopback address, as a custom domain
        // would be named in APP_HOSTS; on Fly.io the default is <FLY_APP_NAME>.fly.dev.
        .env("APP_HOSTS", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let server = serve(command, port);
    let address: SocketAddr = server.address;

    let check = table(&fly, "http_service")["checks"][0]
        .as_table()
        .expect("[[http_service.checks]]");
    let check_path = string(check, "path");
    let up = get(address, check_path);
    assert_eq!(up.status, 200, "{check_path}: {}", up.text());

    let created = post(address, "/rooms", &[], &[("name", "Lobby")]);
    assert!(created.status < 400, "create answered {}", created.status);
    let page = get(address, "/rooms");
    assert_eq!(page.status, 200);
    let page = page.text();
    assert!(page.contains("Lobby"), "the page lists the room it stored");
    // Every stylesheet and script the page asks for is served: the templates are compiled in,
    // the assets come from the copied static/.
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/static/"))
        .collect();
    assert!(
        assets.len() >= 2,
        "the layout loads Turbo and a stylesheet: {assets:?}"
    );
    for asset in &assets {
        let reply = get(address, asset);
        assert_eq!(reply.status, 200, "{asset}");
        let shipped = std::fs::read(app.dir.join(asset.trim_start_matches('/'))).unwrap();
        assert!(reply.body == shipped, "{asset} is the app's file");
    }
    drop(server);

    // Production writes to the volume only: the working directory is root's in the image.
    assert!(
        std::fs::read_dir(&volume).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".sqlite3")),
        "the database file is on the volume"
    );
    assert_eq!(
        Tree::read(&workdir_path),
        before,
        "the app wrote nothing into its working directory"
    );

    // Without the secret, production stops at once with one line that names it.
    let mut command = image_command();
    command.envs(&env).env_remove("SECRET_KEY_BASE");
    let (succeeded, stderr) = run_to_exit(command);
    assert!(!succeeded, "production refuses to start without a secret");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(lines[0].contains("SECRET_KEY_BASE"), "{stderr}");
}
