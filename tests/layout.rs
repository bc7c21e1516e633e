//! The layout guard: generated Rust is exactly what rustfmt writes, for names of every length.
//!
//! The fixtures check rustfmt's layout through full builds of a few apps, for the names they
//! happen to use. This test renders resources in memory for names and field names of 1 to 48
//! characters (singulars, plurals, nested resources, every field type and modifier, every option,
//! both databases) and apps named with 1 to 64, with accounts, and runs `rustfmt --check` on their Rust files,
//! with no cargo build, so a width rule in `src/layout.rs` that drifts from rustfmt, or a
//! scaffold line whose width depends on names and does not go through it, fails here in seconds.
//! Names are built from word lists, never at random, so a failure names a combination that
//! reproduces; `LAYOUT_DIFFS=<file>` writes every diff of a failing run to that file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use turbogen::error::Error;
use turbogen::inject::{Injection, Outcome};
use turbogen::lower::{lower_app, lower_resource, resource_name};
use turbogen::model::Resource;
use turbogen::naming::pluralize;
use turbogen::render::{
    GeneratedFile, Scaffolds, auth_injections, render_app, render_auth, render_resource,
};
use turbogen::spec::{FieldType, Insert, parse_cli};
use turbogen::types::Database;

/// The longest resource and field name tried.
const LONGEST: usize = 48;
/// The longest app name tried: an app's name is a crate name, and those run longer.
const LONGEST_APP: usize = 64;

/// Words resource and app names are made of.
const NOUNS: &[&str] = &[
    "organization",
    "membership",
    "invitation",
    "workspace",
    "project",
    "account",
    "comment",
    "attachment",
    "delivery",
    "schedule",
    "warehouse",
    "shipment",
    "record",
    "ticket",
    "review",
    "channel",
];

/// Long words, so that some names have few underscores and their camel case is nearly as long.
const LONG_WORDS: &[&str] = &[
    "characteristically",
    "internationalization",
    "counterrevolutionaries",
    "electroencephalograph",
    "incomprehensibilities",
];

/// Last words whose plural is irregular, so plural names are more than an added `s`.
const IRREGULAR: &[&str] = &[
    "person", "child", "status", "category", "mouse", "analysis", "leaf", "box", "quiz", "goose",
    "wife", "index",
];

/// Words field names are made of.
const FIELD_WORDS: &[&str] = &[
    "display",
    "name",
    "description",
    "accepted",
    "invitation",
    "published",
    "amount",
    "remaining",
    "balance",
    "starts",
    "checked",
    "settings",
    "reference",
    "label",
    "body",
    "title",
];

/// Field names that are Rust keywords or SQL reserved words, escaped differently in each.
const KEYWORD_FIELDS: &[&str] = &["type", "match", "order", "gen", "where", "group", "limit"];

/// Every field type with a column of its own but `references`, which needs a resource to refer
/// to, and the attachment types, which have no column (the resources of many fields take them
/// besides).
fn value_types() -> Vec<FieldType> {
    FieldType::ALL
        .into_iter()
        .filter(|t| {
            !matches!(
                t,
                FieldType::References | FieldType::Attachment | FieldType::Attachments
            )
        })
        .collect()
}

/// The modifier suffixes, in turn.
const MODIFIERS: &[&str] = &[
    "",
    ":optional",
    ":unique",
    ":index",
    ":optional:unique",
    ":optional:index",
    ":unique:index",
    ":optional:unique:index",
];

/// A snake_case name of exactly `len` characters: words from `words`, starting at `seed`, joined
/// by underscores and cut to length, never ending in an underscore.
fn snake(words: &[&str], seed: usize, len: usize) -> String {
    let mut out = String::new();
    let mut i = seed;
    while out.len() < len {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(words[i % words.len()]);
        i += 1;
    }
    out.truncate(len);
    if out.ends_with('_') {
        out.pop();
        out.push('s');
    }
    out
}

/// A singular resource name of `len` characters whose last word is `last` when it fits.
fn ending_in(last: &str, seed: usize, len: usize) -> String {
    if len <= last.len() + 1 {
        return snake(&[last], 0, len);
    }
    format!("{}_{last}", snake(NOUNS, seed, len - last.len() - 1))
}

/// The singular name `gen` records for a resource typed as `name`, which is what a
/// `references` field names; a refused name stays as typed, to be refused again.
fn singular(name: String) -> String {
    resource_name(&name).unwrap_or(name)
}

/// One field token as the command line takes it.
fn token(name: &str, ty: FieldType, modifiers: &str) -> String {
    format!("{name}:{}{modifiers}", ty.as_str())
}

/// Field names of the given lengths, all distinct and none of them `taken`.
fn field_names(seed: usize, lengths: &[usize], taken: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, &len) in lengths.iter().enumerate() {
        let mut s = seed + i;
        loop {
            let name = snake(FIELD_WORDS, s, len);
            let name = if len == 1 {
                // One-letter names run through the alphabet rather than the words' initials.
                ((b'a' + (s % 26) as u8) as char).to_string()
            } else {
                name
            };
            if !names.contains(&name) && !taken.contains(&name.as_str()) {
                names.push(name);
                break;
            }
            s += 1;
        }
    }
    names
}

/// A resource as `gen resource` would be run for it.
#[derive(Clone, Debug)]
struct ResourceRun {
    /// The name as typed: singular, or a plural `gen` singularizes.
    name: String,
    fields: Vec<String>,
    optimistic: bool,
    refresh: bool,
    prepend: bool,
    /// `--parent`, when it is not the first reference.
    parent: Option<String>,
    /// `--scope user`: its records belong to the signed-in user.
    scope_user: bool,
    /// `--authenticated`: shared by every signed-in user.
    authenticated: bool,
}

impl ResourceRun {
    fn new(name: impl Into<String>, fields: Vec<String>) -> Self {
        ResourceRun {
            name: name.into(),
            fields,
            optimistic: false,
            refresh: false,
            prepend: false,
            parent: None,
            scope_user: false,
            authenticated: false,
        }
    }

    /// The command that generates it, which is how a failure names it.
    fn command(&self) -> String {
        let mut line = format!("gen resource {}", self.name);
        for f in &self.fields {
            write!(line, " {f}").unwrap();
        }
        if self.optimistic {
            line.push_str(" --optimistic");
        }
        if self.refresh {
            line.push_str(" --refresh");
        }
        if self.prepend {
            line.push_str(" --insert prepend");
        }
        if let Some(p) = &self.parent {
            write!(line, " --parent {p}").unwrap();
        }
        if self.scope_user {
            line.push_str(" --scope user");
        }
        if self.authenticated {
            line.push_str(" --authenticated");
        }
        line
    }
}

/// An app and the resources generated in it, in order.
#[derive(Clone, Debug)]
struct Combination {
    app: String,
    database: Database,
    resources: Vec<ResourceRun>,
}

impl Combination {
    /// Whether the app has accounts, which resources of a user's or of signed-in users need.
    fn accounts(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.scope_user || r.authenticated)
    }

    fn describe(&self) -> String {
        let database = match self.database {
            Database::Sqlite => "",
            Database::Postgres => " --database postgres",
        };
        let auth = if self.accounts() { " --auth" } else { "" };
        let mut lines = vec![format!("gen new {}{database}{auth}", self.app)];
        lines.extend(self.resources.iter().map(ResourceRun::command));
        lines.join(" && ")
    }
}

/// An app name of `len` characters that `gen new` accepts.
fn app_name(seed: usize, len: usize) -> String {
    let name = snake(&["kitchen", "workspace", "inventory", "tracker"], seed, len);
    if lower_app(&name, Database::Sqlite).is_ok() {
        name
    } else {
        // Short cuts can be keywords or crate names (`as`, `std`); a run of one letter is neither.
        "q".repeat(len)
    }
}

/// The combinations, deterministic: each loop sweeps one length from 1 to `LONGEST` while the
/// others move through the range at different strides.
fn combinations() -> Vec<Combination> {
    let types = value_types();
    let stride = |l: usize, k: usize| (l * k) % LONGEST + 1;
    let mut out = Vec::new();
    let mut push = |l: usize, resources: Vec<ResourceRun>| {
        for database in [Database::Sqlite, Database::Postgres] {
            out.push(Combination {
                app: app_name(l, (l * 5) % LONGEST_APP + 1),
                database,
                resources: resources.clone(),
            });
        }
    };
    for l in 1..=LONGEST {
        // A plain singular resource, its name and fields growing together.
        let lengths = [l, stride(l, 7), l];
        let fields = field_names(l, &lengths, &[]);
        let fields = fields
            .iter()
            .enumerate()
            .map(|(i, f)| token(f, types[(l + i) % types.len()], MODIFIERS[(l + i) % 8]))
            .collect();
        let words = if l % 2 == 0 { NOUNS } else { LONG_WORDS };
        let mut run = ResourceRun::new(snake(words, l, l), fields);
        run.optimistic = l % 3 == 0;
        run.refresh = l % 4 == 1;
        run.prepend = l % 5 == 2;
        push(l, vec![run]);

        // A plural name with an irregular plural, nested under a parent.
        let irregular = IRREGULAR[l % IRREGULAR.len()];
        let parent = singular(snake(NOUNS, l + 3, stride(l, 7)));
        let child = pluralize(&ending_in(irregular, l, l));
        let parent_fields = field_names(l, &[stride(l, 3)], &[]);
        let parent_run = ResourceRun::new(
            &parent,
            vec![token(&parent_fields[0], FieldType::String, "")],
        );
        let child_fields = field_names(l + 1, &[LONGEST + 1 - l], &[&parent]);
        let mut run = ResourceRun::new(
            child,
            vec![
                token(&child_fields[0], types[l % types.len()], MODIFIERS[l % 8]),
                token(&parent, FieldType::References, ""),
            ],
        );
        run.optimistic = l % 2 == 0;
        run.refresh = l % 3 == 0;
        run.prepend = l % 4 == 0;
        push(l, vec![parent_run, run]);

        // Many fields, one of every type, nested, with names from short to long.
        let parent = singular(ending_in(IRREGULAR[(l + 5) % IRREGULAR.len()], l, l));
        let lengths: Vec<usize> = (0..types.len())
            .map(|i| (l + i * 5) % LONGEST + 1)
            .collect();
        let names = field_names(l * 3, &lengths, &[&parent]);
        let mut fields: Vec<String> = names
            .iter()
            .zip(&types)
            .enumerate()
            .map(|(i, (f, ty))| token(f, *ty, MODIFIERS[(l + i) % 8]))
            .collect();
        fields.insert(l % fields.len(), token(&parent, FieldType::References, ""));
        // A file and a field of many files, named short to long as the columns are.
        let file_lengths = [(l * 3) % LONGEST + 1, (l * 11) % LONGEST + 1];
        let mut taken: Vec<&str> = names.iter().map(String::as_str).collect();
        taken.push(&parent);
        let files = field_names(l * 3 + 1, &file_lengths, &taken);
        let one = [":image", ":optional", ":optional:image:pdf", ""][l % 4];
        fields.push(token(&files[0], FieldType::Attachment, one));
        // Every third resource has one file field alone, whose list rustfmt lays out otherwise.
        if l % 3 != 0 {
            let many = [":video", ""][l % 2];
            fields.push(token(&files[1], FieldType::Attachments, many));
        }
        let mut run = ResourceRun::new(snake(LONG_WORDS, l * 2, stride(l, 13)), fields);
        run.optimistic = l % 2 == 1;
        run.refresh = l % 5 == 0;
        run.prepend = l % 3 == 1;
        push(
            l,
            vec![
                ResourceRun::new(&parent, vec![token("name", FieldType::String, "")]),
                run,
            ],
        );

        // A child whose name starts with its parent's, so their modules sort next to each
        // other, with a second, optional reference that is not the parent.
        let words = if l % 2 == 0 { LONG_WORDS } else { NOUNS };
        let parent = singular(snake(words, l + 7, l));
        let other = singular(snake(NOUNS, l + 9, stride(l, 11)));
        let stem = parent[..parent.len().min(LONGEST - 7)].trim_end_matches('_');
        let child = format!("{stem}_{}", snake(FIELD_WORDS, l, 6));
        let field = field_names(l + 5, &[stride(l, 17)], &[&parent, &other]);
        let mut run = ResourceRun::new(
            child,
            vec![
                token(&other, FieldType::References, ":optional"),
                token(&field[0], types[(l * 7) % types.len()], ""),
                token(&parent, FieldType::References, MODIFIERS[l % 2 * 3]),
            ],
        );
        run.parent = Some(parent.clone());
        run.optimistic = l % 4 == 3;
        run.prepend = l % 2 == 1;
        push(
            l,
            vec![
                ResourceRun::new(&parent, vec![token("title", FieldType::Text, "")]),
                ResourceRun::new(&other, vec![token("label", FieldType::String, ":unique")]),
                run,
            ],
        );
    }
    // With accounts: a user's resource, its nested one, a shared one, and a resource nested under
    // the shared one whose other references, a user's record (through the user, or through its
    // user's parent, optionally) and a shared one, are looked up before a write.
    for l in 1..=LONGEST {
        let owned = singular(snake(NOUNS, l + 11, l));
        let nested = singular(snake(LONG_WORDS, l + 13, stride(l, 5)));
        let shared = singular(snake(NOUNS, l + 17, stride(l, 7)));
        let child = singular(snake(LONG_WORDS, l + 19, stride(l, 9)));
        let names = [
            owned.as_str(),
            nested.as_str(),
            shared.as_str(),
            child.as_str(),
        ];
        let distinct: BTreeSet<&str> = names.iter().copied().collect();
        if distinct.len() < names.len() {
            continue;
        }
        let mut owned_run = ResourceRun::new(&owned, vec![token("body", FieldType::Text, "")]);
        owned_run.scope_user = true;
        let nested_run = ResourceRun::new(
            &nested,
            vec![
                token("body", FieldType::Text, ""),
                token(&owned, FieldType::References, ""),
            ],
        );
        let mut shared_run = ResourceRun::new(&shared, vec![token("name", FieldType::String, "")]);
        shared_run.authenticated = true;
        let mut references = vec![
            token(&shared, FieldType::References, ""),
            token(&owned, FieldType::References, ["", ":optional"][l % 2]),
            token(&nested, FieldType::References, [":optional", ""][l % 2]),
        ];
        if l % 3 == 0 {
            references.swap(1, 2);
        }
        let mut child_run = ResourceRun::new(&child, references);
        child_run.optimistic = l % 4 == 1;
        // A user's record nested under theirs that names a shared record.
        let share = format!("{}_share", &owned[..owned.len().min(LONGEST - 6)]);
        let share_run = ResourceRun::new(
            share,
            vec![
                token(&owned, FieldType::References, ""),
                token(&shared, FieldType::References, ["", ":optional"][l % 2]),
            ],
        );
        push(
            l,
            vec![owned_run, nested_run, shared_run, child_run, share_run],
        );
    }
    // Field names that are keywords, among names of every length.
    for (i, keyword) in KEYWORD_FIELDS.iter().enumerate() {
        let l = 1 + i * 7;
        let names = field_names(i, &[l, LONGEST - l], &[keyword]);
        let fields = vec![
            token(keyword, types[i % types.len()], MODIFIERS[i % 8]),
            token(&names[0], FieldType::Boolean, ""),
            token(&names[1], types[(i + 3) % types.len()], ":optional"),
        ];
        let mut run = ResourceRun::new(snake(NOUNS, i, LONGEST - l), fields);
        run.optimistic = i % 2 == 0;
        push(l, vec![run]);
    }
    // Names with numbers, which rustfmt sorts by value in `use` lists (`v9` before `v10`).
    for (parent, child) in [
        ("record9", "record10"),
        ("record10", "record9"),
        ("v2", "v2_item"),
        ("stage2_item", "stage10_item"),
        ("a1", "a10b"),
        ("app2", "app2_item"),
        ("turbo2", "turbo10"),
    ] {
        let l = parent.len() + child.len();
        push(
            l,
            vec![
                ResourceRun::new(parent, vec![token("name", FieldType::String, "")]),
                ResourceRun::new(
                    child,
                    vec![
                        token("title2", FieldType::String, ""),
                        token(parent, FieldType::References, ""),
                    ],
                ),
            ],
        );
    }
    out
}

/// Whether lowering refused a name for a reason a user would be told about: reserved words and
/// the columns every table has. Any other error is a bug in this test or in `gen`.
fn legitimately_refused(error: &Error) -> bool {
    let message = error.to_string();
    ["is reserved", "cannot be used in Rust", "which every"]
        .iter()
        .any(|reason| message.contains(reason))
}

/// One generated Rust file: the scaffold it comes from, its path in the app, its text.
struct Rendered {
    scaffold: String,
    path: String,
    contents: String,
}

/// Renders a combination's resources, or says why a name was refused.
fn render(combination: &Combination) -> Result<Vec<Rendered>, Error> {
    let mut app = lower_app(&combination.app, combination.database)?;
    app.accounts = combination.accounts();
    let scaffolds = Scaffolds::builtin();
    let mut earlier: Vec<Resource> = Vec::new();
    let mut out = Vec::new();
    for (n, run) in combination.resources.iter().enumerate() {
        let mut spec = parse_cli(&run.name, &run.fields)?;
        spec.migration = Some(n as u64 + 1);
        spec.optimistic = run.optimistic;
        spec.refresh = run.refresh;
        spec.parent = run.parent.clone();
        if run.scope_user {
            spec.scope = Some("user".to_owned());
        }
        spec.authenticated = run.authenticated;
        if run.prepend {
            spec.insert = Insert::Prepend;
        }
        let resource = lower_resource(&spec, &app, &earlier)?;
        let files = render_resource(&app, &resource, &scaffolds)
            .unwrap_or_else(|e| panic!("{}: {e}", combination.describe()));
        let plural = resource.names.plural.as_str();
        out.extend(rust_files(files, |path| {
            let segments: Vec<String> = path
                .split('/')
                .map(|segment| match segment.strip_suffix(".rs") {
                    _ if segment == plural => "%plural%".to_owned(),
                    Some(stem) if stem == plural => "%plural%.rs".to_owned(),
                    _ => segment.to_owned(),
                })
                .collect();
            format!("resource/{}", segments.join("/"))
        }));
        earlier.push(resource);
    }
    Ok(out)
}

/// The Rust files among `files`, with the scaffold path each came from.
fn rust_files(
    files: Vec<GeneratedFile>,
    scaffold: impl Fn(&str) -> String,
) -> impl Iterator<Item = Rendered> {
    files
        .into_iter()
        .filter(|f| f.path.ends_with(".rs"))
        .map(move |f| Rendered {
            scaffold: scaffold(&f.path),
            contents: String::from_utf8(f.contents).expect("generated Rust is UTF-8"),
            path: f.path,
        })
}

/// Where a distinct file came from: its scaffold, and each combination and path that made it.
struct Origins {
    scaffold: String,
    made_by: Vec<(String, String)>,
}

/// The distinct file contents to check.
#[derive(Default)]
struct Corpus {
    files: BTreeMap<String, Origins>,
}

impl Corpus {
    fn add(&mut self, combination: &str, file: Rendered) {
        self.files
            .entry(file.contents)
            .or_insert_with(|| Origins {
                scaffold: file.scaffold,
                made_by: Vec::new(),
            })
            .made_by
            .push((combination.to_owned(), file.path));
    }
}

/// The modules a file declares without a body (`mod handlers;`), which rustfmt opens.
fn declared_modules(contents: &str) -> Vec<String> {
    contents
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("pub ").unwrap_or(line);
            let name = rest.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim_start_matches("r#").to_owned())
        })
        .collect()
}

/// The name each distinct file is checked under; no module is called that.
fn checked_name(n: usize) -> String {
    format!("rendered_file_{n}.rs")
}

/// Runs `rustfmt --check` on every file of `corpus` in `dir`, where the modules they declare
/// exist as empty files (one newline, as rustfmt writes an empty file). Returns rustfmt's diff
/// of each file it would change, by its index in the corpus, and anything else it printed.
fn rustfmt_check(corpus: &Corpus, dir: &Path) -> (BTreeMap<usize, String>, String) {
    let mut paths = Vec::new();
    let mut modules = BTreeSet::new();
    for (n, contents) in corpus.files.keys().enumerate() {
        modules.extend(declared_modules(contents));
        let path = dir.join(checked_name(n));
        std::fs::write(&path, contents).unwrap();
        paths.push(path);
    }
    for module in modules {
        std::fs::write(dir.join(format!("{module}.rs")), "\n").unwrap();
    }
    // One rustfmt per core: each half takes about half the time.
    let halves: Vec<_> = paths.chunks(paths.len().div_ceil(2).max(1)).collect();
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                scope.spawn(move || {
                    Command::new("rustfmt")
                        .args(["--check", "--edition", "2024", "--color", "never"])
                        .args(half.iter())
                        .output()
                        .expect("rustfmt runs (rustup component add rustfmt)")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut diffs: BTreeMap<usize, String> = BTreeMap::new();
    let mut errors = String::new();
    let prefix = format!("Diff in {}/rendered_file_", dir.display());
    for output in outputs {
        errors.push_str(&String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut current = None;
        for line in stdout.lines() {
            if line.starts_with("Diff in ") {
                current = line
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.split('.').next())
                    .and_then(|n| n.parse().ok());
            }
            match current {
                Some(n) => writeln!(diffs.entry(n).or_default(), "{line}").unwrap(),
                None => writeln!(errors, "{line}").unwrap(),
            }
        }
        if !output.status.success() && stdout.is_empty() && output.stderr.is_empty() {
            writeln!(errors, "rustfmt exited with {}", output.status).unwrap();
        }
    }
    (diffs, errors)
}

/// Renders every combination, two threads at a time; returns each combination's files, or why
/// its names were refused.
fn render_all(combinations: &[Combination]) -> Vec<Result<Vec<Rendered>, Error>> {
    let halves: Vec<_> = combinations
        .chunks(combinations.len().div_ceil(2).max(1))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| scope.spawn(move || half.iter().map(render).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn generated_rust_is_formatted_for_names_of_every_length() {
    let mut corpus = Corpus::default();

    for database in [Database::Sqlite, Database::Postgres] {
        for len in 1..=LONGEST_APP {
            let name = app_name(len, len);
            let app = lower_app(&name, database).unwrap();
            let scaffolds = Scaffolds::builtin();
            let mut files = render_app(&app, &scaffolds).unwrap();
            // Accounts: their files, and `src/main.rs` with the boot check `gen auth` adds to it,
            // which names the app's crate.
            files.extend(render_auth(&app, 1, &scaffolds).unwrap());
            for inj in auth_injections(&app, 1, &scaffolds).unwrap() {
                if let Injection::AuthBootCheck { .. } = inj {
                    let main = files.iter_mut().find(|f| f.path == "src/main.rs").unwrap();
                    let Outcome::Injected(text) =
                        inj.apply(&String::from_utf8_lossy(&main.contents))
                    else {
                        panic!("the boot check lands in src/main.rs");
                    };
                    main.contents = text.into_bytes();
                }
            }
            let origin = Combination {
                app: name,
                database,
                resources: Vec::new(),
            }
            .describe();
            let scaffold = |path: &str| {
                let kind = if path.contains("auth") { "auth" } else { "app" };
                format!("{kind}/{path}")
            };
            for file in rust_files(files, scaffold) {
                corpus.add(&origin, file);
            }
        }
    }

    let combinations = combinations();
    let mut refused = Vec::new();
    let mut rendered = 0;
    for (combination, result) in combinations.iter().zip(render_all(&combinations)) {
        match result {
            Ok(files) => {
                rendered += 1;
                let origin = combination.describe();
                for file in files {
                    corpus.add(&origin, file);
                }
            }
            Err(e) if legitimately_refused(&e) => refused.push(format!("{e}")),
            Err(e) => panic!("{}: {e}", combination.describe()),
        }
    }
    assert!(
        rendered >= 200 && refused.len() * 10 <= combinations.len(),
        "{rendered} of {} combinations rendered; refused:\n{}",
        combinations.len(),
        refused.join("\n")
    );

    let dir = tempfile::tempdir().unwrap();
    let (diffs, errors) = rustfmt_check(&corpus, dir.path());
    assert!(errors.trim().is_empty(), "rustfmt failed:\n{errors}");
    if diffs.is_empty() {
        return;
    }

    let origins: Vec<&Origins> = corpus.files.values().collect();
    let mut by_scaffold: BTreeMap<&str, usize> = BTreeMap::new();
    for n in diffs.keys() {
        *by_scaffold.entry(&origins[*n].scaffold).or_default() += 1;
    }
    let mut report = format!(
        "{} of {} distinct generated Rust files are not as rustfmt writes them, from these \
         scaffolds:\n",
        diffs.len(),
        corpus.files.len()
    );
    for (scaffold, count) in &by_scaffold {
        writeln!(report, "  scaffolds/{scaffold}: {count}").unwrap();
    }
    let mut all = String::new();
    for (n, diff) in &diffs {
        let (combination, path) = &origins[*n].made_by[0];
        writeln!(all, "\n{path} from: {combination}").unwrap();
        let more = origins[*n].made_by.len() - 1;
        if more > 0 {
            writeln!(all, "(and from {more} more combinations)").unwrap();
        }
        all.push_str(diff);
    }
    // Every diff goes to a file when asked; the report shows the first few, which are usually
    // the same mistake as the rest.
    if let Ok(path) = std::env::var("LAYOUT_DIFFS") {
        std::fs::write(&path, &all).unwrap();
        writeln!(report, "every diff is in {path}").unwrap();
    } else {
        writeln!(
            report,
            "(LAYOUT_DIFFS=<file> writes every diff to that file)"
        )
        .unwrap();
    }
    const SHOWN: usize = 40_000;
    match all.char_indices().nth(SHOWN) {
        Some((at, _)) => {
            report.push_str(&all[..at]);
            report.push_str("\n...");
        }
        None => report.push_str(&all),
    }
    panic!("{report}");
}
