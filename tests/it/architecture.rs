//! The floors of `src/`, drawn in `docs/architecture.md`: a file imports only
//! from its own floor and the floors below it, and no files import each other
//! round a loop (a module may use its own submodules).
//!
//! The check reads the sources as text. Comments and string literals are
//! blanked first; then every `use` tree (grouped, nested, multi-line, `pub use`
//! re-exports too) and every inline path that starts at `crate`, `$crate`,
//! `super` or `self` is a reference. A reference lands on the longest prefix of
//! its path that is a module file (`crate::runs::Run` → `src/runs/mod.rs`).
//! The crate-root macro `crate::args` belongs to storage.
//!
//! An inline module (`mod tests { … }`) belongs to its file, and its imports
//! count like any other: `#[cfg(test)]` modules included, since a unit test that
//! needs a higher floor belongs in this suite instead.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

/// The floor of each top-level module of `src/`.
const FLOORS: &[(&str, u8)] = &[
    ("domain", 0),
    ("error", 0),
    ("clock", 0),
    ("telemetry", 0),
    ("storage", 1),
    ("queue", 2),
    ("runs", 3),
    ("runbooks", 3),
    ("alerts", 3),
    ("accounts", 3),
    ("console", 3),
    ("app", 3),
    ("doors", 4),
    ("main", 5),
    ("lib", 5),
];

/// Lower floors a floor must not reach past: doors call services, never
/// storage or the queue engine.
const SKIPPED: &[(u8, &[u8])] = &[(4, &[1, 2])];

/// Macros exported at the crate root, and the module that defines each.
const ROOT_MACROS: &[(&str, &str)] = &[("args", "storage")];

#[test]
fn src_floors_point_down_and_no_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = BTreeMap::new();
    read_tree(root, &root.join("src"), &mut files);
    assert!(
        files.contains_key("src/lib.rs"),
        "no src/lib.rs under {root:?}"
    );
    let report = check(&files);
    assert!(report.is_clean(), "{}", report.render());
}

/// `docs/architecture.md` names every folder of `src/` (as `folder/`, its
/// path below `src/`) and every module of the storage floor (as
/// `storage/module`), so the map a newcomer reads matches the code.
#[test]
fn the_architecture_doc_names_every_folder_and_storage_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc =
        std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let mut files = BTreeMap::new();
    read_tree(root, &root.join("src"), &mut files);
    let missing = unnamed(&doc, files.keys().map(String::as_str));
    assert!(
        missing.is_empty(),
        "docs/architecture.md does not name:\n{}",
        missing.join("\n")
    );
}

/// What `doc` leaves unnamed among the folders of the files at `paths`
/// (`src/…`) and the storage floor's modules.
fn unnamed<'a>(doc: &str, paths: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut wanted = BTreeSet::new();
    for path in paths {
        let Some(rel) = path.strip_prefix("src/") else {
            continue;
        };
        let parts: Vec<&str> = rel.split('/').collect();
        for depth in 1..parts.len() {
            wanted.insert(format!("{}/", parts[..depth].join("/")));
        }
        if parts.first() == Some(&"storage") && parts.len() >= 2 {
            let module = parts[1].trim_end_matches(".rs");
            if module != "mod" {
                wanted.insert(format!("storage/{module}"));
            }
        }
    }
    wanted
        .into_iter()
        .filter(|name| !doc.contains(&format!("`{name}`")) && !doc.contains(&format!("`{name} ")))
        .collect()
}

#[test]
fn an_unnamed_folder_or_storage_module_is_reported() {
    let doc = "`queue/` and `storage/` with `storage/runs`.";
    let paths = [
        "src/queue/mod.rs",
        "src/storage/mod.rs",
        "src/storage/runs.rs",
        "src/storage/queue/mod.rs",
        "src/doors/web/kit/page.rs",
    ];
    assert_eq!(
        unnamed(doc, paths.into_iter()),
        [
            "doors/",
            "doors/web/",
            "doors/web/kit/",
            "storage/queue",
            "storage/queue/"
        ]
    );
}

/// Reads every `.rs` file below `dir` into `tree`, keyed by its path from `root`.
fn read_tree(root: &Path, dir: &Path, tree: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            read_tree(root, &path, tree);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let key = path.strip_prefix(root).unwrap().to_string_lossy();
            let source = std::fs::read_to_string(&path).unwrap();
            tree.insert(key.replace('\\', "/"), source);
        }
    }
}

// ---------------------------------------------------------------- the check

/// What the check found; clean when every list is empty.
#[derive(Debug, Default)]
struct Report {
    /// Files whose top-level module has no floor.
    unassigned: Vec<String>,
    /// `file:line imports crate::x (floor N above floor M)`.
    floors: Vec<String>,
    /// One entry a loop: its files, one way round it, and every edge inside it.
    cycles: Vec<String>,
}

impl Report {
    fn is_clean(&self) -> bool {
        self.unassigned.is_empty() && self.floors.is_empty() && self.cycles.is_empty()
    }

    fn render(&self) -> String {
        let mut out = String::from("src/ breaks the floors of docs/architecture.md\n");
        if !self.unassigned.is_empty() {
            out += &format!("\n{} file(s) without a floor:\n", self.unassigned.len());
            for line in &self.unassigned {
                out += &format!("  {line}\n");
            }
        }
        if !self.floors.is_empty() {
            out += &format!("\n{} import(s) of a higher floor:\n", self.floors.len());
            for line in &self.floors {
                out += &format!("  {line}\n");
            }
        }
        if !self.cycles.is_empty() {
            out += &format!("\n{} import cycle(s):\n", self.cycles.len());
            for cycle in &self.cycles {
                out += &format!("{cycle}\n");
            }
        }
        out
    }
}

/// One resolved reference from a file to another file.
struct Edge {
    from: usize,
    to: usize,
    line: usize,
    /// The path as `crate::…`.
    shown: String,
}

/// Checks a tree of sources keyed by their path (`src/runs/mod.rs`).
fn check(tree: &BTreeMap<String, String>) -> Report {
    let paths: Vec<&String> = tree.keys().collect();
    let modules: Vec<Vec<String>> = paths.iter().map(|p| module_of(p)).collect();
    // `src/main.rs` is a crate of its own: nothing imports it.
    let index: BTreeMap<&[String], usize> = modules
        .iter()
        .enumerate()
        .filter(|(i, _)| paths[*i] != "src/main.rs")
        .map(|(i, m)| (m.as_slice(), i))
        .collect();

    let mut report = Report::default();
    let floors: Vec<Option<u8>> = paths
        .iter()
        .map(|path| {
            let top = top_module(path);
            let floor = FLOORS.iter().find(|(m, _)| *m == top).map(|(_, f)| *f);
            if floor.is_none() {
                report.unassigned.push(format!(
                    "{path}: assign src/{top} a floor in tests/it/architecture.rs"
                ));
            }
            floor
        })
        .collect();

    let mut edges = Vec::new();
    for (from, path) in paths.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for r in references(&modules[from], &tree[*path]) {
            let Some(to) = resolve(&index, &r.path) else {
                continue;
            };
            if to != from && seen.insert((r.line, to)) {
                let shown = std::iter::once("crate")
                    .chain(r.path.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join("::");
                edges.push(Edge {
                    from,
                    to,
                    line: r.line,
                    shown,
                });
            }
        }
    }

    for e in &edges {
        if let (Some(source), Some(target)) = (floors[e.from], floors[e.to])
            && target > source
        {
            report.floors.push(format!(
                "{}:{} imports {} (floor {target} above floor {source})",
                paths[e.from], e.line, e.shown
            ));
        }
        if let (Some(source), Some(target)) = (floors[e.from], floors[e.to])
            && SKIPPED
                .iter()
                .any(|(from, skipped)| *from == source && skipped.contains(&target))
        {
            report.floors.push(format!(
                "{}:{} imports {} (floor {source} calls the floors above {target}, not floor {target})",
                paths[e.from], e.line, e.shown
            ));
        }
    }

    // A module may use its own submodules: those edges make no loop.
    let looping: Vec<&Edge> = edges
        .iter()
        .filter(|e| {
            let (source, target) = (&modules[e.from], &modules[e.to]);
            !(target.len() > source.len() && target.starts_with(source))
        })
        .collect();
    let mut next = vec![BTreeSet::new(); paths.len()];
    for e in &looping {
        next[e.from].insert(e.to);
    }
    for component in strongly_connected(&next) {
        if component.len() < 2 {
            continue;
        }
        let inside: BTreeSet<usize> = component.iter().copied().collect();
        let names: Vec<&str> = component.iter().map(|&f| paths[f].as_str()).collect();
        let round = shortest_loop(&next, &inside, component[0])
            .iter()
            .map(|&f| paths[f].as_str())
            .collect::<Vec<_>>()
            .join(" → ");
        let mut text = format!(
            "  {} files: {}\n    round: {round}\n    edges:",
            names.len(),
            names.join(", ")
        );
        for e in looping
            .iter()
            .filter(|e| inside.contains(&e.from) && inside.contains(&e.to))
        {
            text += &format!(
                "\n      {}:{} imports {} → {}",
                paths[e.from], e.line, e.shown, paths[e.to]
            );
        }
        report.cycles.push(text);
    }
    report
}

/// `src/doors/web/routes.rs` → `doors::web::routes`; `mod.rs` is its folder;
/// `src/lib.rs` and `src/main.rs` are the crate root.
fn module_of(path: &str) -> Vec<String> {
    let inner = path.trim_start_matches("src/").trim_end_matches(".rs");
    let mut module: Vec<String> = inner.split('/').map(String::from).collect();
    if module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    if module == ["lib"] || module == ["main"] {
        module.clear();
    }
    module
}

/// `src/doors/web/routes.rs` → `doors`; `src/app.rs` → `app`.
fn top_module(path: &str) -> &str {
    let inner = path.trim_start_matches("src/");
    let first = inner.split('/').next().unwrap_or(inner);
    first.trim_end_matches(".rs")
}

/// The file a path from the crate root lands on: the longest prefix that is a module file.
fn resolve(index: &BTreeMap<&[String], usize>, path: &[String]) -> Option<usize> {
    if let Some(first) = path.first()
        && !index.contains_key(&path[..1])
        && let Some((_, home)) = ROOT_MACROS.iter().find(|(m, _)| first == m)
    {
        return index.get([home.to_string()].as_slice()).copied();
    }
    (0..=path.len())
        .rev()
        .find_map(|n| index.get(&path[..n]).copied())
}

/// Tarjan's strongly connected components, each sorted, in order of their first file.
fn strongly_connected(next: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        next: &'a [BTreeSet<usize>],
        order: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        counter: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.order[v] = Some(s.counter);
        s.low[v] = s.counter;
        s.counter += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.next[v].iter() {
            match s.order[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(o) if s.on_stack[w] => s.low[v] = s.low[v].min(o),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.order[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort();
            s.components.push(component);
        }
    }
    let n = next.len();
    let mut s = State {
        next,
        order: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        counter: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if s.order[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.components.sort();
    s.components
}

/// The shortest way from `start` back to itself inside a component, `start` at both ends.
fn shortest_loop(next: &[BTreeSet<usize>], inside: &BTreeSet<usize>, start: usize) -> Vec<usize> {
    let mut came_from = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &next[v] {
            if !inside.contains(&w) {
                continue;
            }
            if w == start {
                let mut way = vec![start, v];
                let mut at = v;
                while at != start {
                    at = came_from[&at];
                    way.push(at);
                }
                way.reverse();
                return way;
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = came_from.entry(w) {
                slot.insert(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

// ---------------------------------------------------------------- the reader

/// A path a file names, from the crate root (`["runs", "Run"]`), and its line.
#[derive(Debug, Clone, PartialEq)]
struct Reference {
    line: usize,
    path: Vec<String>,
}

/// Every crate path the source of module `module` names, in the order written.
fn references(module: &[String], source: &str) -> Vec<Reference> {
    let code = strip(source);
    let t = tokens(&code);
    let mut out = Vec::new();
    // Inline modules open at this point, each with the depth of its brace.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        let here = || -> Vec<String> {
            let mut m = module.to_vec();
            m.extend(inline.iter().map(|(name, _)| name.clone()));
            m
        };
        match t[i].text.as_str() {
            "mod" if is_ident(t.get(i + 1)) && t.get(i + 2).is_some_and(|x| x.text == "{") => {
                inline.push((t[i + 1].text.clone(), depth));
                depth += 1;
                i += 3;
            }
            "{" => {
                depth += 1;
                i += 1;
            }
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                i += 1;
            }
            "use" => {
                let mut leaves = Vec::new();
                i = use_tree(&t, i + 1, &[], &mut leaves);
                while i < t.len() && t[i].text != ";" {
                    i += 1;
                }
                let here = here();
                for (path, line) in leaves {
                    if let Some(path) = absolute(&here, &path) {
                        out.push(Reference { line, path });
                    }
                }
            }
            first if is_root(first) && t.get(i + 1).is_some_and(|x| x.text == "::") => {
                let line = t[i].line;
                let mut path = vec![first.to_string()];
                i += 1;
                while t.get(i).is_some_and(|x| x.text == "::") && is_ident(t.get(i + 1)) {
                    path.push(t[i + 1].text.clone());
                    i += 2;
                }
                if let Some(path) = absolute(&here(), &path) {
                    out.push(Reference { line, path });
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Words that start a path inside this crate.
fn is_root(word: &str) -> bool {
    matches!(word, "crate" | "$crate" | "super" | "self" | "tenantatlas")
}

/// A written path made absolute from the module `here`; `None` for other crates.
fn absolute(here: &[String], path: &[String]) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" | "$crate" | "tenantatlas" => return Some(rest.to_vec()),
        "self" => here.to_vec(),
        "super" => here[..here.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    let mut rest = rest;
    while let Some(("super", tail)) = rest.split_first().map(|(s, t)| (s.as_str(), t)) {
        base.pop();
        rest = tail;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Reads one use tree at `i` below `prefix`, adding each leaf path with its line;
/// returns the index after the tree.
fn use_tree(
    t: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let mut path = prefix.to_vec();
    if t.get(i).is_some_and(|x| x.text == "::") {
        i += 1;
    }
    loop {
        let Some(tok) = t.get(i) else { return i };
        match tok.text.as_str() {
            "{" => {
                i += 1;
                loop {
                    match t.get(i).map(|x| x.text.as_str()) {
                        None => return i,
                        Some("}") => return i + 1,
                        Some(",") => i += 1,
                        Some(_) => {
                            let after = use_tree(t, i, &path, out);
                            i = if after == i { i + 1 } else { after };
                        }
                    }
                }
            }
            "*" => {
                out.push((path, tok.line));
                return i + 1;
            }
            _ if is_ident(Some(tok)) => {
                // `self` inside a group names the group's own prefix.
                if tok.text != "self" || path.is_empty() {
                    path.push(tok.text.clone());
                }
                i += 1;
                if t.get(i).is_some_and(|x| x.text == "::") {
                    i += 1;
                    continue;
                }
                if t.get(i).is_some_and(|x| x.text == "as") {
                    i += 2;
                }
                out.push((path, tok.line));
                return i;
            }
            _ => return i,
        }
    }
}

/// A word or a punctuation mark of the blanked source, with its line.
#[derive(Debug)]
struct Token {
    text: String,
    line: usize,
}

fn is_ident(tok: Option<&Token>) -> bool {
    tok.and_then(|t| t.text.chars().next())
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
}

/// Splits blanked source into words (`$crate` is one), `::`, and single marks.
fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let text = chars[start..i].iter().collect();
            out.push(Token { text, line });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The source with comments, string and character literals blanked to spaces;
/// line breaks stay, so lines keep their numbers.
fn strip(source: &str) -> String {
    let c: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |out: &mut String, from: &[char]| {
        out.extend(from.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let word_before = |i: usize| i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
    let mut i = 0;
    while i < c.len() {
        let end = if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            let mut j = i;
            while j < c.len() && c[j] != '\n' {
                j += 1;
            }
            j
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            // Block comments nest.
            let (mut j, mut open) = (i + 2, 1);
            while j < c.len() && open > 0 {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    open += 1;
                    j += 2;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    open -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            j
        } else if let Some(end) = raw_string(&c, i).filter(|_| !word_before(i)) {
            end
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            j + 1
        } else if c[i] == '\'' && c.get(i + 1) == Some(&'\\') {
            let mut j = i + 3;
            while j < c.len() && c[j] != '\'' {
                j += 1;
            }
            j + 1
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i + 3
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        let end = end.min(c.len());
        blank(&mut out, &c[i..end]);
        i = end;
    }
    out
}

/// The end of a raw string (`r"…"`, `r#"…"#`, `br"…"`) starting at `i`.
fn raw_string(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = c[j..].iter().take_while(|&&ch| ch == '#').count();
    j += hashes;
    if c.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < c.len() {
        if c[j] == '"'
            && c[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&ch| ch == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}

// ---------------------------------------------------------------- the reader's tests

/// The references of `source` in module `module`, as `line path` joined by ` | `.
fn paths_of(module: &str, source: &str) -> String {
    let module: Vec<String> = module.split("::").map(String::from).collect();
    let found = references(&module, source).into_iter();
    let shown: Vec<String> = found
        .map(|r| format!("{} {}", r.line, r.path.join("::")))
        .collect();
    shown.join(" | ")
}

/// A tree of sources from `(path, source)` pairs.
fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    let owned = files.iter().map(|(p, s)| (p.to_string(), s.to_string()));
    owned.collect()
}

#[test]
fn reads_grouped_and_nested_use_across_lines() {
    let source = "use crate::{\n    a::b,\n    c::{d, e::{self, F as G}},\n    h::*,\n};\n";
    assert_eq!(
        paths_of("x", source),
        "2 a::b | 3 c::d | 3 c::e | 3 c::e::F | 4 h"
    );
}

#[test]
fn reads_super_self_and_pub_use() {
    let source = "use super::error::WebError;\nuse super::super::queue;\n\
                  pub use self::inner::Thing;\npub(crate) use crate::storage::{self, Db};\n\
                  use std::sync::Arc;\n";
    assert_eq!(
        paths_of("doors::web::routes", source),
        "1 doors::web::error::WebError | 2 doors::queue | 3 doors::web::routes::inner::Thing | 4 storage | 4 storage::Db"
    );
}

#[test]
fn reads_inline_paths_and_the_args_macro() {
    let source = "fn f() {\n    let r = crate::storage::runs::get(&db, 1);\n\
                  let a = crate::args![1, 2];\n    let v = Vec::<crate::runs::Run>::new();\n}\n\
                  macro_rules! m { () => { $crate::storage::Arg::from(1) } }\n";
    assert_eq!(
        paths_of("runs", source),
        "2 storage::runs::get | 3 args | 4 runs::Run | 6 storage::Arg::from"
    );
}

#[test]
fn ignores_paths_in_comments_and_strings() {
    let source = "// use crate::doors::web;\n/* crate::doors /* nested */ crate::app */\n\
                  /// Calls `crate::doors::cli::main`.\nconst S: &str = \"crate::doors::web\";\n\
                  const R: &str = r#\"use crate::doors; \"quoted\" \"#;\nconst Q: char = '\"';\n\
                  fn f<'a>(x: &'a str) -> &'a str { crate::error::wrap(x, '\\'') }\n";
    assert_eq!(paths_of("runs", source), "7 error::wrap");
}

#[test]
fn inline_modules_belong_to_their_file() {
    let source = "use crate::domain::Email;\n#[cfg(test)]\nmod tests {\n    use super::*;\n\
                  use self::deep::X;\n    mod deep { pub struct X; }\n}\nuse super::Other;\n";
    assert_eq!(
        paths_of("accounts::password", source),
        "1 domain::Email | 4 accounts::password | 5 accounts::password::tests::deep::X | 8 accounts::Other"
    );
}

#[test]
fn a_toy_tree_with_a_cycle_a_floor_violation_and_a_stranger() {
    let files = tree(&[
        (
            "src/lib.rs",
            "pub mod domain;\npub mod runs;\npub mod alerts;\n",
        ),
        (
            "src/main.rs",
            "fn main() { tenantatlas::doors::web::serve(); }\n",
        ),
        ("src/domain/mod.rs", "use crate::storage::Db;\n"),
        ("src/storage/mod.rs", "use crate::domain::Email;\n"),
        ("src/runs/mod.rs", "use crate::alerts::rules::Severity;\n"),
        ("src/alerts/mod.rs", "pub mod rules;\n"),
        ("src/alerts/rules.rs", "use crate::{storage, runs::Run};\n"),
        (
            "src/doors/web/mod.rs",
            "pub mod routes;\nuse self::routes::table;\nuse crate::args;\n",
        ),
        ("src/doors/web/routes.rs", "use super::WebState;\n"),
        ("src/shell.rs", "use crate::domain;\n"),
    ]);
    let report = check(&files);
    assert_eq!(
        report.unassigned,
        ["src/shell.rs: assign src/shell a floor in tests/it/architecture.rs"]
    );
    assert_eq!(
        report.floors,
        [
            "src/domain/mod.rs:1 imports crate::storage::Db (floor 1 above floor 0)",
            "src/doors/web/mod.rs:3 imports crate::args (floor 4 calls the floors above 1, not floor 1)"
        ]
    );
    // storage ↔ domain is a loop too; web/mod.rs → routes.rs → web/mod.rs is not.
    assert_eq!(report.cycles.len(), 2, "{}", report.render());
    let rendered = report.render();
    assert!(
        rendered.contains(
            "2 files: src/alerts/rules.rs, src/runs/mod.rs\n    \
             round: src/alerts/rules.rs → src/runs/mod.rs → src/alerts/rules.rs"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            "src/runs/mod.rs:1 imports crate::alerts::rules::Severity → src/alerts/rules.rs"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("src/alerts/rules.rs:1 imports crate::runs::Run → src/runs/mod.rs"),
        "{rendered}"
    );
    assert!(
        rendered.contains("2 files: src/domain/mod.rs, src/storage/mod.rs"),
        "{rendered}"
    );
    assert!(
        !report.cycles.iter().any(|c| c.contains("doors/web")),
        "{rendered}"
    );
}

#[test]
fn a_toy_tree_that_keeps_its_floors_is_clean() {
    let files = tree(&[
        ("src/lib.rs", "pub mod domain;\n"),
        (
            "src/domain/mod.rs",
            "pub mod values;\nuse self::values::Email;\n",
        ),
        ("src/domain/values.rs", "use super::Capability;\n"),
        ("src/storage/mod.rs", "use crate::domain::Email;\n"),
        ("src/runs/mod.rs", "fn f() { crate::args![1]; }\n"),
        ("src/doors/cli.rs", "use crate::{runs, domain::Email};\n"),
    ]);
    let report = check(&files);
    assert!(report.is_clean(), "{}", report.render());
}
