//! rustfmt's default layout for the Rust shapes in the scaffolds whose width depends on names.
//!
//! Generated code must pass `cargo fmt --check` as written, whatever the resource and field names
//! are, without running rustfmt (it may be missing, its output may differ between versions, and
//! running it would cost more than the whole render). Scaffolds are written so that most lines
//! are short whatever the names; the lines that cannot be kept short (a function signature, a
//! call, a chain, a struct literal, an assignment, a `use` list, an attribute) go through these
//! functions, which lay them out as rustfmt does with its default configuration: `expr` ports
//! rustfmt's rules for expressions and statements, and this module applies them to the pieces
//! the templates pass. `tests/layout.rs` renders resources with names of every length and runs
//! rustfmt on the result, so a rule that drifts from rustfmt is caught there.

mod expr;

pub use expr::MAX_WIDTH;

fn width(text: &str) -> usize {
    expr::width(text)
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

/// `tab_spaces`: one level of block indentation.
const INDENT: usize = 4;

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

/// A call statement or expression: `{lead}{callee}({args}){then}{trail}`, where `lead` is what
/// comes before the call on its line (`let x = `), `then` is what is chained onto the call
/// (`.await?`) and `trail` what ends the statement (`;`), in a block indented by `indent`.
///
/// A `callee` that starts with `.` is one link of a chain the template prints a line at a time,
/// such as `.route(…)`; its arguments are laid out as that link's.
pub fn call(
    indent: usize,
    lead: &str,
    callee: &str,
    args: &[String],
    then: &str,
    trail: &str,
) -> String {
    let one_line = format!("{lead}{callee}({}){then}{trail}", args.join(", "));
    let laid_out = if callee.starts_with('.') && lead.is_empty() {
        expr::call_with(indent, callee, args, &format!("{then}{trail}"))
    } else {
        expr::statement_with(indent, &one_line, true)
    };
    laid_out.unwrap_or_else(|_| format!("{}{one_line}", spaces(indent)))
}

/// An assignment or constant whose right side is `rhs`: `{lead}{rhs}{trail}` on one line when
/// it fits, else with `rhs` on the next line when rustfmt prefers that. A string literal that
/// fits on neither is left on one long line, which is what rustfmt does with it.
pub fn assign(indent: usize, lead: &str, rhs: &str, trail: &str) -> String {
    let one_line = format!("{lead}{rhs}{trail}");
    expr::statement(indent, &one_line).unwrap_or_else(|_| format!("{}{one_line}", spaces(indent)))
}

/// A struct literal: `{lead}{name} { a, b }{trail}` when its body is at most `struct_lit_width`
/// wide and the line fits, otherwise one field per line; each field is `name` or `name: value`.
pub fn struct_literal(
    indent: usize,
    lead: &str,
    name: &str,
    fields: &[String],
    trail: &str,
) -> String {
    let one_line = if fields.is_empty() {
        format!("{lead}{name} {{}}{trail}")
    } else {
        format!("{lead}{name} {{ {} }}{trail}", fields.join(", "))
    };
    expr::statement(indent, &one_line).unwrap_or_else(|_| format!("{}{one_line}", spaces(indent)))
}

/// Any one statement or block-ending expression, written on one line in `src`, laid out as
/// rustfmt would in a block indented by `indent`: `let x = f(a, b);`, `x.f().await?;`,
/// `Ok(Some(x))`, `let Some(x) = x else { return Err(e); };`, `assert!(a, "{b}");`.
pub fn statement(indent: usize, src: &str) -> Result<String, String> {
    expr::statement(indent, src)
}

/// The head of an `if` block, `if {cond} {`; a condition that breaks puts the brace on a line
/// of its own.
pub fn if_head(indent: usize, cond: &str) -> Result<String, String> {
    expr::if_head(indent, cond)
}

/// One field of a struct literal whose fields the template writes a line each: `name: value,`,
/// the value breaking or moving to the next line as rustfmt does.
pub fn field_init(indent: usize, name: &str, value: &str) -> Result<String, String> {
    expr::field_init(indent, name, value)
}

/// One field of a struct declaration, `{prefix} {ty},` with `prefix` such as `pub name:`; the
/// type moves to the next line when the line is too long.
pub fn field_decl(indent: usize, prefix: &str, ty: &str) -> String {
    expr::field_decl(indent, prefix, ty)
}

/// An attribute such as `#[template(path = "…")]`; its list breaks like a call's.
pub fn attribute(indent: usize, src: &str) -> Result<String, String> {
    expr::attribute(indent, src)
}

/// `use` items of one group in the order rustfmt sorts them: path segment by segment,
/// identifiers by rustfmt's version sort (`v9` before `v10`, `_` before any other character).
pub fn sort_uses(items: &[String]) -> Result<Vec<String>, String> {
    expr::sort_uses(items)
}

/// A `use` item ending in one list, `use a::b::{C, d};`; a list too long for the line moves to
/// lines of its own.
pub fn use_item(indent: usize, src: &str) -> Result<String, String> {
    expr::use_item(indent, src)
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
    // Each expected layout below is what rustfmt 1.9 (edition 2024, default configuration) makes
    // of the one-line form.

    fn stmt(indent: usize, src: &str) -> String {
        statement(indent, src).unwrap()
    }

    #[test]
    fn a_call_that_does_not_start_on_the_line_of_its_let_moves_below_it() {
        assert_eq!(
            stmt(
                4,
                "let ticket_review_channel_organization_mem_status = TicketReviewChannelOrganizationMemStatus::find(&app.db, ticket_review_channel_organization_mem_status_id).await?;"
            ),
            "    let ticket_review_channel_organization_mem_status =\n        TicketReviewChannelOrganizationMemStatus::find(\n            &app.db,\n            ticket_review_channel_organization_mem_status_id,\n        )\n        .await?;"
        );
        // On the next line the call fits on one line; on the `let` line `.await?` would wrap.
        assert_eq!(
            stmt(
                4,
                "let ticket_review_channel = TicketReviewChannel::find(&app.db, ticket_review_channel_id).await?;"
            ),
            "    let ticket_review_channel =\n        TicketReviewChannel::find(&app.db, ticket_review_channel_id).await?;"
        );
    }

    #[test]
    fn a_chain_of_several_links_breaks_past_chain_width() {
        // rustfmt counts the `?` twice against the 60 columns: 59 columns stay on one line.
        assert_eq!(
            stmt(
                4,
                "project_account_comment_attac_perso.destroy(&app.db).await?;"
            ),
            "    project_account_comment_attac_perso.destroy(&app.db).await?;"
        );
        assert_eq!(
            stmt(
                4,
                "project_account_comment_attac_person.destroy(&app.db).await?;"
            ),
            "    project_account_comment_attac_person\n        .destroy(&app.db)\n        .await?;"
        );
    }

    #[test]
    fn a_call_inside_a_short_call_overflows_within_fn_call_width() {
        assert_eq!(
            stmt(
                4,
                "Ok(TurboStream::replace(channel_organization_me.dom_id(), html))"
            ),
            "    Ok(TurboStream::replace(channel_organization_me.dom_id(), html))"
        );
        assert_eq!(
            stmt(
                4,
                "Ok(TurboStream::replace(channel_organization_mem.dom_id(), html))"
            ),
            "    Ok(TurboStream::replace(\n        channel_organization_mem.dom_id(),\n        html,\n    ))"
        );
    }

    #[test]
    fn short_simple_arguments_share_a_line_and_a_long_turbofish_breaks() {
        assert_eq!(
            stmt(
                4,
                "turbo::nested_collection_dom_id_prefixed::<CommentAttachmentDeliveryScheduleWar, Qui>(\"summary\", qui)"
            ),
            "    turbo::nested_collection_dom_id_prefixed::<CommentAttachmentDeliveryScheduleWar, Qui>(\n        \"summary\", qui,\n    )"
        );
        assert_eq!(
            stmt(
                4,
                "turbo::nested_collection_dom_id_prefixed::<ProjectAccountCommentAttachmentDelivery, InvitationWIndex>(\"summary\", invitation_w_index)"
            ),
            "    turbo::nested_collection_dom_id_prefixed::<\n        ProjectAccountCommentAttachmentDelivery,\n        InvitationWIndex,\n    >(\"summary\", invitation_w_index)"
        );
    }

    #[test]
    fn a_macro_keeps_its_trailing_comma_as_written() {
        // A chain as a macro's only argument must fit on the macro's line, or goes below it.
        assert_eq!(
            stmt(
                4,
                "assert!(text(first).await.contains(\">0 invitation workspace proj<\"));"
            ),
            "    assert!(text(first).await.contains(\">0 invitation workspace proj<\"));"
        );
        assert_eq!(
            stmt(
                4,
                "assert!(text(first).await.contains(\">0 invitation workspace projes<\"));"
            ),
            "    assert!(\n        text(first)\n            .await\n            .contains(\">0 invitation workspace projes<\")\n    );"
        );
        assert_eq!(
            stmt(
                8,
                "format!(\"/attachment-delivery-schedule-warehouse-shipmes/{}\", self.id)"
            ),
            "        format!(\n            \"/attachment-delivery-schedule-warehouse-shipmes/{}\",\n            self.id\n        )"
        );
        // `rs_call` has always given a broken `assert!` the trailing comma of a call.
        let args = strings(&[
            "edit.contains(r#\"name=\"checked_at\" value=\"2026-01-11T09:30\"\"#)",
            "\"{edit}\"",
        ]);
        assert_eq!(
            call(4, "", "assert!", &args, "", ";"),
            "    assert!(\n        edit.contains(r#\"name=\"checked_at\" value=\"2026-01-11T09:30\"\"#),\n        \"{edit}\",\n    );"
        );
    }

    #[test]
    fn a_let_else_moves_its_else_to_the_next_line_when_the_line_is_full() {
        assert_eq!(
            stmt(
                8,
                "let Some(reference_label_body_title_display) = reference_label_body_title_display else { return Err(errors); };"
            ),
            "        let Some(reference_label_body_title_display) = reference_label_body_title_display else {\n            return Err(errors);\n        };"
        );
        assert_eq!(
            stmt(
                8,
                "let Some(reference_label_body_title_display_na) = reference_label_body_title_display_na else { return Err(errors); };"
            ),
            "        let Some(reference_label_body_title_display_na) = reference_label_body_title_display_na\n        else {\n            return Err(errors);\n        };"
        );
        assert_eq!(
            stmt(
                8,
                "let Some(name_description_accepted_invitation_published_a) = name_description_accepted_invitation_published_a else { return Err(errors); };"
            ),
            "        let Some(name_description_accepted_invitation_published_a) =\n            name_description_accepted_invitation_published_a\n        else {\n            return Err(errors);\n        };"
        );
    }

    #[test]
    fn a_statement_rustfmt_gives_up_on_keeps_the_layout_it_would_have_had() {
        // The literal is wider than any line, so rustfmt keeps whatever is written.
        let form = "role_description=first+role+description&accepted_invitation=1&invitation_accepted_on=2026-01-11";
        assert_eq!(
            stmt(
                4,
                &format!(
                    "seed(&router, \"/organizations/1/organization-memberships\", \"{form}\").await;"
                )
            ),
            format!(
                "    seed(\n        &router,\n        \"/organizations/1/organization-memberships\",\n        \"{form}\",\n    )\n    .await;"
            )
        );
    }

    #[test]
    fn a_typed_let_breaks_in_its_type_arguments() {
        assert_eq!(
            stmt(
                4,
                "let organization_membership_x_ab_invit: Vec<MembershipXAbInvitationRecordCharacteristicallyOrgani> = MembershipXAbInvitationRecordCharacteristicallyOrgani::all(&app.db).await?;"
            ),
            "    let organization_membership_x_ab_invit: Vec<\n        MembershipXAbInvitationRecordCharacteristicallyOrgani,\n    > = MembershipXAbInvitationRecordCharacteristicallyOrgani::all(&app.db).await?;"
        );
    }

    #[test]
    fn an_if_whose_condition_breaks_puts_its_brace_on_a_line_of_its_own() {
        assert_eq!(
            if_head(4, "room.room_id != room.id").unwrap(),
            "    if room.room_id != room.id {"
        );
        assert_eq!(
            if_head(
                4,
                "record_ticket_r.comment_attachment_delivery_schedu_box_id != comment_attachment_delivery_schedu_box.id"
            )
            .unwrap(),
            "    if record_ticket_r.comment_attachment_delivery_schedu_box_id\n        != comment_attachment_delivery_schedu_box.id\n    {"
        );
    }

    #[test]
    fn a_struct_field_value_breaks_or_moves_below_its_name() {
        assert_eq!(
            field_init(
                12,
                "amount_remaining_balance_starts_chec",
                "self.amount_remaining_balance_starts_chec.is_some()"
            )
            .unwrap(),
            "            amount_remaining_balance_starts_chec: self\n                .amount_remaining_balance_starts_chec\n                .is_some(),"
        );
        assert_eq!(
            field_init(
                12,
                "ticket_review_channel_organization_membership",
                "&ticket_review_channel_organization_membership"
            )
            .unwrap(),
            "            ticket_review_channel_organization_membership:\n                &ticket_review_channel_organization_membership,"
        );
        assert_eq!(
            field_init(8, "action", "Room::collection_path()").unwrap(),
            "        action: Room::collection_path(),"
        );
    }

    #[test]
    fn a_field_type_moves_below_its_name_when_the_line_is_full() {
        assert_eq!(
            field_decl(4, "pub room:", "&'a Room"),
            "    pub room: &'a Room,"
        );
        assert_eq!(
            field_decl(
                4,
                "organization_membership_invitation_worksp_people:",
                "Vec<OrganizationMembershipInvitationWorkspPerson>"
            ),
            "    organization_membership_invitation_worksp_people:\n        Vec<OrganizationMembershipInvitationWorkspPerson>,"
        );
    }

    #[test]
    fn a_long_attribute_list_moves_to_a_line_of_its_own() {
        assert_eq!(
            attribute(0, "#[template(path = \"rooms/_room.html\")]").unwrap(),
            "#[template(path = \"rooms/_room.html\")]"
        );
        assert_eq!(
            attribute(
                0,
                "#[template(path = \"workspace_project_account_com_indices/_workspace_project_account_com_index.html\")]"
            )
            .unwrap(),
            "#[template(\n    path = \"workspace_project_account_com_indices/_workspace_project_account_com_index.html\"\n)]"
        );
    }

    #[test]
    fn a_long_use_list_moves_to_lines_of_its_own() {
        assert_eq!(
            use_item(0, "use chat::rooms::{Room, broadcasts};").unwrap(),
            "use chat::rooms::{Room, broadcasts};"
        );
        assert_eq!(
            use_item(
                0,
                "use kitchen_works::account_comment_attachment_delivery_s::{AccountCommentAttachmentDeliveryS, broadcasts};"
            )
            .unwrap(),
            "use kitchen_works::account_comment_attachment_delivery_s::{\n    AccountCommentAttachmentDeliveryS, broadcasts,\n};"
        );
        // Without a list there is nothing to break.
        assert_eq!(
            use_item(0, "use chat::rooms::Room;").unwrap(),
            "use chat::rooms::Room;"
        );
    }

    #[test]
    fn uses_sort_by_segment_and_number() {
        let sorted = sort_uses(&strings(&[
            "use shop::turbo::{Delivery, Subscription};",
            "use shop::record10s::{Record10, broadcasts};",
            "use shop::app::{self, AppState};",
            "use shop::record9s::Record9;",
            "use shop::app2_items::AppItem;",
            "use shop::app2s::App2;",
        ]))
        .unwrap();
        assert_eq!(
            sorted,
            strings(&[
                "use shop::app::{self, AppState};",
                "use shop::app2_items::AppItem;",
                "use shop::app2s::App2;",
                "use shop::record9s::Record9;",
                "use shop::record10s::{Record10, broadcasts};",
                "use shop::turbo::{Delivery, Subscription};",
            ])
        );
    }

    #[test]
    fn an_array_argument_stays_on_one_line_up_to_the_array_width_then_breaks() {
        let args =
            |files: &str| strings(&["&router", "\"/albums\"", "\"name=Album+name+1\"", files]);
        let one = call(
            4,
            "",
            "seed_with_files",
            &args("&[sample(\"cover\", &[Accept::Image])]"),
            ".await",
            ";",
        );
        assert_eq!(
            one,
            "    seed_with_files(\n        &router,\n        \"/albums\",\n        \"name=Album+name+1\",\n        \
             &[sample(\"cover\", &[Accept::Image])],\n    )\n    .await;"
        );
        let two = args(
            "&[sample(\"logo\", &[Accept::Image]), sample(\"banner\", &[Accept::Image, Accept::Video])]",
        );
        assert_eq!(
            call(4, "", "seed_with_files", &two, ".await", ";"),
            "    seed_with_files(\n        &router,\n        \"/albums\",\n        \"name=Album+name+1\",\n        &[\n            \
             sample(\"logo\", &[Accept::Image]),\n            sample(\"banner\", &[Accept::Image, Accept::Video]),\n        \
             ],\n    )\n    .await;"
        );
    }

    #[test]
    fn text_that_is_not_rust_is_an_error() {
        assert!(statement(4, "let = ;").is_err());
        assert!(if_head(4, "a !=").is_err());
        assert!(use_item(0, "use ;").is_err());
    }
}
