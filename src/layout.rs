//! rustfmt's default layout for the few Rust shapes in the scaffolds whose width depends on names.
//!
//! Generated code must pass `cargo fmt --check` as written, whatever the resource and field names
//! are, without running rustfmt (it may be missing, its output may differ between versions, and
//! running it would cost more than the whole render). Scaffolds are written so that most lines
//! are short whatever the names; the shapes that cannot be kept short (a function signature, a
//! call with several arguments, a struct literal) go through these functions, which apply the
//! same width rules rustfmt applies with its default configuration. The compile tier of the test
//! suite runs `cargo fmt --check` on apps generated from every fixture, so a rule that drifts
//! from rustfmt is caught there.

/// `max_width`: no line may be longer.
pub const MAX_WIDTH: usize = 100;
/// `fn_call_width`: the widest argument list kept on one line.
const FN_CALL_WIDTH: usize = 60;
/// `chain_width`: the widest chain of calls kept on one line.
const CHAIN_WIDTH: usize = 60;
/// `struct_lit_width`: the widest struct literal body kept on one line.
const STRUCT_LIT_WIDTH: usize = 18;
/// `tab_spaces`: one level of block indentation.
const INDENT: usize = 4;

fn width(text: &str) -> usize {
    text.chars().count()
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

/// One item per line, each indented one level deeper than `indent` and followed by a comma.
fn vertical(indent: usize, items: &[String]) -> String {
    let inner = spaces(indent + INDENT);
    items
        .iter()
        .map(|item| format!("{inner}{item},\n"))
        .collect()
}

/// A function signature: `{head}({params}){tail}` on one line when it fits, otherwise one
/// parameter per line (rustfmt's `fn_params_layout = "Tall"`). `tail` carries the return type
/// and the opening brace, as in `" -> Result<Response, AppError> {"`.
pub fn signature(indent: usize, head: &str, params: &[String], tail: &str) -> String {
    let pad = spaces(indent);
    let one_line = format!("{pad}{head}({}){tail}", params.join(", "));
    if width(&one_line) <= MAX_WIDTH || params.is_empty() {
        return one_line;
    }
    format!("{pad}{head}(\n{}{pad}){tail}", vertical(indent, params))
}

/// A call statement or expression line: `{lead}{callee}({args}){then}{trail}`, where `then` is
/// what is chained onto the call (`.await?`) and `trail` what ends the line (`;`).
///
/// The arguments stay on one line when they are at most `fn_call_width` wide and the line fits;
/// failing that `then` moves to a line of its own, and failing that there is one argument per
/// line. After an assignment (`lead` ending in `= `) the call may instead start on the next line,
/// which rustfmt prefers when that takes it to one line or saves more than one line. A method
/// call on a receiver followed by `then` is a chain of two links, kept on one line only up to
/// `chain_width`.
pub fn call(
    indent: usize,
    lead: &str,
    callee: &str,
    args: &[String],
    then: &str,
    trail: &str,
) -> String {
    let pad = spaces(indent);
    let inner = spaces(indent + INDENT);
    let joined = args.join(", ");
    if let Some((receiver, method)) = callee.split_once('.')
        && !receiver.is_empty()
        && !then.is_empty()
        && width(&format!("{callee}({joined}){then}")) > CHAIN_WIDTH
    {
        return format!("{pad}{lead}{receiver}\n{inner}.{method}({joined})\n{inner}{then}{trail}");
    }
    let same_line = call_from(&format!("{pad}{lead}"), indent, callee, args, then, trail);
    if !lead.ends_with("= ") || !same_line.contains('\n') {
        return same_line;
    }
    let next_line = call_from(&inner, indent + INDENT, callee, args, then, trail);
    let lines = |text: &str| text.lines().count();
    if !next_line.contains('\n') || lines(&same_line) > lines(&next_line) + 1 {
        format!("{pad}{}\n{next_line}", lead.trim_end())
    } else {
        same_line
    }
}

/// [`call`] laid out after `first` (the text before the callee on its line), in a statement
/// indented by `indent`.
fn call_from(
    first: &str,
    indent: usize,
    callee: &str,
    args: &[String],
    then: &str,
    trail: &str,
) -> String {
    let pad = spaces(indent);
    let joined = args.join(", ");
    // rustfmt lays a single argument out on the call's line whenever the line fits, however
    // wide the argument is; `fn_call_width` limits only lists of several.
    if width(&joined) <= FN_CALL_WIDTH || args.len() == 1 {
        let one_line = format!("{first}{callee}({joined}){then}{trail}");
        if width(&one_line) <= MAX_WIDTH {
            return one_line;
        }
        // rustfmt keeps room for what ends the statement on every line of the expression.
        let root = format!("{first}{callee}({joined})");
        if !then.is_empty() && width(&root) + width(trail) <= MAX_WIDTH {
            return format!("{root}\n{}{then}{trail}", spaces(indent + INDENT));
        }
    }
    let args = vertical(indent, args);
    if then.is_empty() {
        format!("{first}{callee}(\n{args}{pad}){trail}")
    } else {
        // A chain whose first link spans lines continues at the statement's indentation.
        format!("{first}{callee}(\n{args}{pad})\n{pad}{then}{trail}")
    }
}

/// An assignment whose right side cannot be broken, such as a string literal:
/// `{lead}{rhs}{trail}` on one line when it fits, else with `rhs` on the next line when that
/// fits, else left on one long line, which is what rustfmt does with it.
pub fn assign(indent: usize, lead: &str, rhs: &str, trail: &str) -> String {
    let pad = spaces(indent);
    let one_line = format!("{pad}{lead}{rhs}{trail}");
    let next = format!("{}{rhs}{trail}", spaces(indent + INDENT));
    if width(&one_line) > MAX_WIDTH && width(&next) <= MAX_WIDTH {
        format!("{pad}{}\n{next}", lead.trim_end())
    } else {
        one_line
    }
}

/// A struct literal: `{lead}{name} { a, b }{trail}` when its body is at most `struct_lit_width`
/// wide and the line fits, otherwise one field per line.
pub fn struct_literal(
    indent: usize,
    lead: &str,
    name: &str,
    fields: &[String],
    trail: &str,
) -> String {
    let pad = spaces(indent);
    if fields.is_empty() {
        return format!("{pad}{lead}{name} {{}}{trail}");
    }
    let body = fields.join(", ");
    let one_line = format!("{pad}{lead}{name} {{ {body} }}{trail}");
    if width(&body) <= STRUCT_LIT_WIDTH && width(&one_line) <= MAX_WIDTH {
        return one_line;
    }
    format!(
        "{pad}{lead}{name} {{\n{}{pad}}}{trail}",
        vertical(indent, fields)
    )
}

/// A statement that is a call followed by a chain of links, one per line: `callee(args)` as
/// [`call`] lays it out, then each of `links` (`.bind(id)`, `.await`) on a line of its own. The
/// links sit one level deeper than the call when the call fits on its line, and level with its
/// closing parenthesis when its arguments had to break, as rustfmt indents a chain.
pub fn chain(indent: usize, callee: &str, args: &[String], links: &[String]) -> String {
    let root = call(indent, "", callee, args, "", "");
    let pad = if root.contains('\n') {
        spaces(indent)
    } else {
        spaces(indent + INDENT)
    };
    let mut out = root;
    for link in links {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(link);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_signature_that_fits_stays_on_one_line() {
        let params = strings(&["State(state): State<AppState>", "Path(id): Path<i64>"]);
        assert_eq!(
            signature(0, "pub async fn show", &params, " -> Response {"),
            "pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Response {"
        );
    }

    #[test]
    fn a_long_signature_takes_one_parameter_per_line() {
        let params = strings(&["broadcaster: &Broadcaster", "category: &Category"]);
        assert_eq!(
            signature(
                0,
                "pub async fn broadcast_create",
                &params,
                " -> askama::Result<()> {"
            ),
            "pub async fn broadcast_create(\n    broadcaster: &Broadcaster,\n    category: &Category,\n) -> askama::Result<()> {"
        );
        // Exactly 100 columns still fits; 101 does not.
        let head = "f".repeat(100 - "(a: u8) {".len());
        let fits = signature(0, &head, &strings(&["a: u8"]), " {");
        assert_eq!(fits.len(), 100);
        assert!(!fits.contains('\n'));
        let long = format!("{head}g");
        assert!(signature(0, &long, &strings(&["a: u8"]), " {").contains('\n'));
    }

    #[test]
    fn call_arguments_break_past_sixty_columns() {
        let short = strings(&[
            "\"name\"",
            "&self.name",
            "forms::text",
            "\"can't be blank\"",
        ]);
        assert_eq!(
            call(8, "let name = ", "errors.required", &short, "", ";"),
            "        let name = errors.required(\"name\", &self.name, forms::text, \"can't be blank\");"
        );
        let long = strings(&[
            "\"released_on\"",
            "&self.released_on",
            "forms::date",
            "\"is not a date\"",
        ]);
        assert_eq!(
            call(8, "let released_on = ", "errors.optional", &long, "", ";"),
            "        let released_on = errors.optional(\n            \"released_on\",\n            &self.released_on,\n            forms::date,\n            \"is not a date\",\n        );"
        );
    }

    #[test]
    fn a_single_argument_stays_on_the_line_while_the_line_fits() {
        // Pinned to rustfmt's output: a 72-column literal ends exactly at column 100.
        let sql = "\"SELECT COUNT(*) FROM endorsements WHERE organization_membership_id = ?\"";
        assert_eq!(
            call(8, "", "sqlx::query_scalar", &strings(&[sql]), "", ""),
            format!("        sqlx::query_scalar({sql})")
        );
        let longer = sql.replace("COUNT", "COUNTS");
        assert_eq!(
            call(8, "", "sqlx::query_scalar", &strings(&[&longer]), "", ""),
            format!("        sqlx::query_scalar(\n            {longer},\n        )")
        );
    }

    #[test]
    fn an_assigned_call_moves_to_the_next_line_before_its_arguments_break() {
        let args = strings(&["&organization", "OrganizationMembershipForm::blank()"]);
        let lead = "let organization_membership_form_for_the_page = ";
        assert_eq!(
            call(4, lead, "new_form", &args, "", ";"),
            "    let organization_membership_form_for_the_page =\n        new_form(&organization, OrganizationMembershipForm::blank());"
        );
    }

    #[test]
    fn an_awaited_call_is_limited_by_the_line_and_a_method_chain_by_chain_width() {
        let args = strings(&["&state.db", "organization.id"]);
        assert_eq!(
            call(
                4,
                "let memberships = ",
                "Membership::for_organization",
                &args,
                ".await?",
                ";"
            ),
            "    let memberships = Membership::for_organization(&state.db, organization.id).await?;"
        );
        let args = strings(&["&state.db", "&params"]);
        assert_eq!(
            call(4, "let room = ", "room.update", &args, ".await?", ";"),
            "    let room = room.update(&state.db, &params).await?;"
        );
        assert_eq!(
            call(
                4,
                "let organization_membership_record = ",
                "organization_membership_record.update",
                &args,
                ".await?",
                ";"
            ),
            "    let organization_membership_record = organization_membership_record\n        .update(&state.db, &params)\n        .await?;"
        );
        // Each of these is what rustfmt makes of the one-line form.
        let args = strings(&["&state.db", "organization_membership_ident"]);
        assert_eq!(
            call(
                4,
                "let x = ",
                "OrganizationMembershipRecordHolder::find_something",
                &args,
                ".await?",
                ";"
            ),
            "    let x = OrganizationMembershipRecordHolder::find_something(\n        &state.db,\n        organization_membership_ident,\n    )\n    .await?;"
        );
        let args = strings(&["&state.db", "organization_membershi"]);
        assert_eq!(
            call(
                4,
                "foo_bar_baz_qux = ",
                "OrganizationMembershipRecordHolder::find_something",
                &args,
                ".await?",
                ";"
            ),
            "    foo_bar_baz_qux =\n        OrganizationMembershipRecordHolder::find_something(&state.db, organization_membershi)\n            .await?;"
        );
    }

    #[test]
    fn an_unbreakable_assignment_moves_to_the_next_line_only_when_that_fits() {
        let short = "\"body=first%20body\"";
        assert_eq!(
            assign(0, "const CREATE_FORM: &str = ", short, ";"),
            "const CREATE_FORM: &str = \"body=first%20body\";"
        );
        let long = format!("\"{}\"", "a".repeat(80));
        assert_eq!(
            assign(0, "const CREATE_FORM: &str = ", &long, ";"),
            format!("const CREATE_FORM: &str =\n    {long};")
        );
        let longer = format!("\"{}\"", "a".repeat(100));
        assert_eq!(
            assign(0, "const CREATE_FORM: &str = ", &longer, ";"),
            format!("const CREATE_FORM: &str = {longer};")
        );
    }

    #[test]
    fn struct_literals_break_past_eighteen_columns() {
        assert_eq!(
            struct_literal(
                4,
                "let page = ",
                "EditPage",
                &strings(&["room", "form"]),
                ";"
            ),
            "    let page = EditPage { room, form };"
        );
        assert_eq!(
            struct_literal(
                4,
                "let page = ",
                "EditPage",
                &strings(&["category", "form"]),
                ";"
            ),
            "    let page = EditPage { category, form };"
        );
        assert_eq!(
            struct_literal(
                4,
                "Ok(",
                "Params",
                &strings(&["title", "body", "published"]),
                ")"
            ),
            "    Ok(Params {\n        title,\n        body,\n        published,\n    })"
        );
    }

    #[test]
    fn a_chain_follows_its_call() {
        let links = [".bind(id)".to_owned(), ".await".to_owned()];
        assert_eq!(
            chain(
                8,
                "sqlx::query",
                &[r#""DELETE FROM rooms""#.to_owned()],
                &links
            ),
            "        sqlx::query(\"DELETE FROM rooms\")\n            .bind(id)\n            .await"
        );
        let long = format!("\"SELECT * FROM {} WHERE id = ?\"", "x".repeat(80));
        let wrapped = chain(8, "sqlx::query_as", std::slice::from_ref(&long), &links);
        assert_eq!(
            wrapped,
            format!(
                "        sqlx::query_as(\n            {long},\n        )\n        .bind(id)\n        .await"
            )
        );
    }
}
