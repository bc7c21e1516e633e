//! rustfmt's layout of expressions and statements, for the subset of Rust the scaffolds print.
//!
//! This follows rustfmt's own algorithm (`overflow.rs`, `chains.rs`, `pairs.rs`, `lists.rs` and
//! the assignment rules of `expr.rs`) with its default configuration and the 2024 style edition:
//! every node is rewritten into a `Shape` (the width left on its first line, its block
//! indentation) and either fits or fails, and each construct tries its layouts in rustfmt's order.
//! Porting the algorithm rather than approximating its outcome is what keeps the output right for
//! names of any length. The input is Rust source text parsed with syn; a construct this module
//! does not lay out (a closure, a block, a tuple) is kept as written and fails where it does not
//! fit, which is what rustfmt does with text it cannot break.

use std::cell::Cell;

use syn::punctuated::Punctuated;
use syn::spanned::Spanned;

/// `max_width`: no line may be longer.
pub const MAX_WIDTH: usize = 100;
/// `tab_spaces`: one level of block indentation.
const TAB: usize = 4;
/// `fn_call_width`: the widest argument list kept on one line.
const FN_CALL_WIDTH: usize = 60;
/// `array_width`: the widest array literal kept on one line.
const ARRAY_WIDTH: usize = 60;
/// `attr_fn_like_width`: the widest attribute argument list kept on one line.
const ATTR_FN_LIKE_WIDTH: usize = 70;
/// `chain_width`: the widest chain of several links kept on one line.
const CHAIN_WIDTH: usize = 60;
/// `struct_lit_width`: the widest struct literal body kept on one line.
const STRUCT_LIT_WIDTH: usize = 18;
/// `short_array_element_width_threshold`: arguments this short may share lines when broken.
const SHORT_ITEM_WIDTH: usize = 10;

/// Macros whose format string rustfmt keeps on a line of its own, with the number of arguments
/// before it (rustfmt's `SPECIAL_CASE_MACROS`).
const FORMAT_MACROS: &[(&str, usize)] = &[
    ("eprint!", 0),
    ("eprintln!", 0),
    ("format!", 0),
    ("format_args!", 0),
    ("print!", 0),
    ("println!", 0),
    ("panic!", 0),
    ("unreachable!", 0),
    ("debug!", 0),
    ("error!", 0),
    ("info!", 0),
    ("warn!", 0),
    ("trace!", 0),
    ("assert!", 1),
    ("debug_assert!", 1),
    ("write!", 1),
    ("writeln!", 1),
    ("assert_eq!", 2),
    ("assert_ne!", 2),
    ("debug_assert_eq!", 2),
    ("debug_assert_ne!", 2),
];

pub(super) fn width(text: &str) -> usize {
    text.chars().count()
}

fn first_line_width(text: &str) -> usize {
    width(text.split('\n').next().unwrap_or(""))
}

fn last_line_width(text: &str) -> usize {
    width(text.rsplit('\n').next().unwrap_or(""))
}

fn trimmed_last_line_width(text: &str) -> usize {
    width(text.rsplit('\n').next().unwrap_or("").trim())
}

fn count_newlines(text: &str) -> usize {
    text.matches('\n').count()
}

fn first_line_ends_with(text: &str, c: char) -> bool {
    text.lines().next().is_some_and(|line| line.ends_with(c))
}

/// Whether the last line is only closing delimiters, so what follows may continue it.
fn last_line_extendable(text: &str) -> bool {
    if text.ends_with("\"#") {
        return true;
    }
    for c in text.chars().rev() {
        match c {
            '(' | ')' | ']' | '}' | '?' | '>' => continue,
            '\n' => break,
            c if c.is_whitespace() => continue,
            _ => return false,
        }
    }
    true
}

/// How far past the indentation the last line of `text` reaches, as rustfmt's `extra_offset`.
fn extra_offset(text: &str, shape: Shape) -> usize {
    match text.rfind('\n') {
        Some(at) => text.len().saturating_sub(at + 1 + shape.used_width()),
        None => text.len(),
    }
}

/// A block indentation and the visual alignment past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Indent {
    block: usize,
    align: usize,
}

impl Indent {
    fn width(self) -> usize {
        self.block + self.align
    }

    fn spaces(self) -> String {
        " ".repeat(self.width())
    }

    fn newline(self) -> String {
        format!("\n{}", self.spaces())
    }
}

/// rustfmt's `Shape`: the room a rewrite has on its first line, where its block is indented,
/// and how far past that indentation its first line starts.
#[derive(Clone, Copy, Debug)]
struct Shape {
    width: usize,
    indent: Indent,
    offset: usize,
}

impl Shape {
    /// A statement, item or field starting a line at `block` columns.
    fn indented(block: usize) -> Shape {
        Shape::at(Indent { block, align: 0 })
    }

    fn at(indent: Indent) -> Shape {
        Shape {
            width: MAX_WIDTH.saturating_sub(indent.width()),
            indent,
            offset: indent.align,
        }
    }

    fn with_max_width(self) -> Shape {
        Shape {
            width: MAX_WIDTH.saturating_sub(self.indent.width()),
            ..self
        }
    }

    fn visual_indent(self, delta: usize) -> Shape {
        let align = self.offset + delta;
        Shape {
            width: self.width,
            indent: Indent {
                block: self.indent.block,
                align,
            },
            offset: align,
        }
    }

    fn block_indent(self, delta: usize) -> Shape {
        if self.indent.align == 0 {
            Shape {
                width: self.width,
                indent: Indent {
                    block: self.indent.block + delta,
                    align: 0,
                },
                offset: 0,
            }
        } else {
            Shape {
                width: self.width,
                indent: Indent {
                    block: self.indent.block,
                    align: self.indent.align + delta,
                },
                offset: self.indent.align + delta,
            }
        }
    }

    fn block(self) -> Shape {
        Shape {
            indent: Indent {
                block: self.indent.block,
                align: 0,
            },
            ..self
        }
    }

    fn sub_width(self, delta: usize) -> Option<Shape> {
        Some(Shape {
            width: self.width.checked_sub(delta)?,
            ..self
        })
    }

    fn shrink_left(self, delta: usize) -> Option<Shape> {
        Some(Shape {
            width: self.width.checked_sub(delta)?,
            indent: Indent {
                block: self.indent.block,
                align: self.indent.align + delta,
            },
            offset: self.offset + delta,
        })
    }

    fn offset_left(self, delta: usize) -> Option<Shape> {
        Some(Shape {
            width: self.width.checked_sub(delta)?,
            offset: self.offset + delta,
            ..self
        })
    }

    fn used_width(self) -> usize {
        self.indent.block + self.offset
    }

    /// What the enclosing construct keeps to the right of this one (a `;`, a `)`).
    fn rhs_overhead(self) -> usize {
        MAX_WIDTH.saturating_sub(self.used_width() + self.width)
    }
}

/// Whether a list that ends up vertical keeps a comma after its last item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trailing {
    /// Only when vertical: rustfmt's default for calls.
    Vertical,
    /// Always, as a macro whose source has one.
    Always,
    /// Never, as a macro or attribute whose source has none.
    Never,
}

/// An expression, reduced to what its layout depends on.
#[derive(Clone, Debug)]
enum Expr {
    /// A literal; `string` for a string literal, which is never broken.
    Lit {
        text: String,
        string: bool,
    },
    /// A path, or a path type; the generic arguments of its last segment, if any, are kept
    /// apart since they can break. `turbofish` writes them after `::`, as in an expression.
    Path {
        head: String,
        last: usize,
        segments: usize,
        generics: Vec<Expr>,
        turbofish: bool,
    },
    /// `&x`, `&mut x`.
    AddrOf {
        op: String,
        expr: Box<Expr>,
    },
    /// `!x`, `-x`, `*x`.
    Unary {
        op: String,
        expr: Box<Expr>,
    },
    /// `return x`.
    Return(Box<Expr>),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `[a, b]`, which rustfmt lays out as a call's arguments in brackets.
    Array(Vec<Expr>),
    Macro {
        name: String,
        args: Vec<Expr>,
        trailing: Trailing,
        text: String,
    },
    MethodCall {
        receiver: Box<Expr>,
        method: String,
        args: Vec<Expr>,
    },
    Field {
        base: Box<Expr>,
        member: String,
    },
    Await(Box<Expr>),
    Try(Box<Expr>),
    Binary {
        lhs: Box<Expr>,
        op: String,
        rhs: Box<Expr>,
    },
    Struct {
        path: String,
        fields: Vec<(String, Option<Expr>)>,
        rest: Option<Box<Expr>>,
    },
    /// `place = value`.
    Assign {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `name = "value"` in an attribute's list.
    Meta(String),
    /// Text laid out as written: it fits where it stands or not at all.
    Verbatim(String),
}

/// What kind of list a parenthesised list is, for the few rules that depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListKind {
    /// Arguments of a call or method call.
    Call,
    /// Items of an array literal.
    Array,
    /// Arguments of a macro invocation.
    Macro,
    /// Generic arguments of a path or a path type.
    Generics,
    /// The list of an attribute.
    Attr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tactic {
    Horizontal,
    Vertical,
    Mixed,
    /// The arguments before a format string on one line, it on the next, the rest after it.
    FormatString(usize),
}

impl Expr {
    fn is_simple(&self) -> bool {
        match self {
            Expr::Lit { .. } => true,
            Expr::Path { segments, .. } => *segments <= 1,
            Expr::AddrOf { expr, .. }
            | Expr::Unary { expr, .. }
            | Expr::Field { base: expr, .. }
            | Expr::Try(expr) => expr.is_simple(),
            _ => false,
        }
    }

    fn is_nested_call(&self) -> bool {
        match self {
            Expr::Call { .. } | Expr::Macro { .. } => true,
            Expr::AddrOf { expr, .. } | Expr::Unary { expr, .. } | Expr::Try(expr) => {
                expr.is_nested_call()
            }
            _ => false,
        }
    }

    fn is_method_call(&self) -> bool {
        match self {
            Expr::MethodCall { .. } => true,
            Expr::AddrOf { expr, .. } | Expr::Unary { expr, .. } | Expr::Try(expr) => {
                expr.is_method_call()
            }
            _ => false,
        }
    }

    /// Whether the last argument of a list of `len` may start on the call's line and continue
    /// below it, as `Ok(Foo {` or `f(g(`.
    fn can_be_overflowed(&self, len: usize) -> bool {
        match self {
            Expr::Struct { .. }
            | Expr::Array(_)
            | Expr::Macro { .. }
            | Expr::Call { .. }
            | Expr::MethodCall { .. } => len == 1,
            Expr::AddrOf { expr, .. } | Expr::Unary { expr, .. } | Expr::Try(expr) => {
                expr.can_be_overflowed(len)
            }
            _ => false,
        }
    }

    /// Whether a chain whose root is this expression, rewritten as `text`, ends in a block.
    fn is_block_like(&self, text: &str) -> bool {
        match self {
            Expr::Macro { .. }
            | Expr::Call { .. }
            | Expr::Array(_)
            | Expr::MethodCall { .. }
            | Expr::Struct { .. } => text.contains('\n'),
            Expr::Unary { expr, .. } | Expr::Try(expr) => expr.is_block_like(text),
            Expr::Binary { rhs, .. } => rhs.is_block_like(text),
            Expr::Lit { .. } => text.contains('\n') && trimmed_last_line_width(text) <= TAB,
            _ => false,
        }
    }
}

/// One link of a method chain: the root, or what follows a `.`; `tries` counts its `?`s.
struct Link<'a> {
    kind: LinkKind<'a>,
    tries: usize,
}

enum LinkKind<'a> {
    Root(&'a Expr),
    Method(&'a str, &'a [Expr]),
    Field(&'a str),
    Await,
}

/// The rewriting state rustfmt threads through a statement.
#[derive(Default)]
struct Fmt {
    /// Set while an overflowing last argument is tried on its call's line: a chain there must
    /// stay on one line.
    force_one_line_chain: Cell<bool>,
    /// Lines after the first may be longer than `max_width`. rustfmt gives up on a statement
    /// that has such a line (a long string literal among broken arguments) and keeps it as
    /// written, so any layout of it is rustfmt's; this one is the layout it would have chosen
    /// had the line fitted.
    lenient: bool,
}

impl Fmt {
    /// Whether `text` fits `shape`: its first line in the width, every other line in
    /// `max_width`, its last line where what follows still fits.
    fn fits(&self, text: &str, shape: Shape) -> bool {
        if first_line_width(text) > shape.width {
            return false;
        }
        if !text.contains('\n') || self.lenient {
            return true;
        }
        if text.lines().skip(1).any(|line| width(line) > MAX_WIDTH) {
            return false;
        }
        last_line_width(text) <= shape.used_width() + shape.width
    }

    fn wrap(&self, text: String, shape: Shape) -> Option<String> {
        self.fits(&text, shape).then_some(text)
    }

    fn rewrite(&self, expr: &Expr, shape: Shape) -> Option<String> {
        match expr {
            Expr::Lit { text, string } => {
                // rustfmt leaves a string literal as it is, however long, unless it spans lines
                // without `\` continuations; a raw string always.
                let kept = *string
                    && (text.starts_with('r')
                        || text.lines().rev().skip(1).all(|line| line.ends_with('\\')));
                if kept {
                    Some(text.clone())
                } else {
                    self.wrap(text.clone(), shape)
                }
            }
            Expr::Verbatim(text) => self.wrap(text.clone(), shape),
            // rustfmt keeps an attribute's `name = value` as it is, however long.
            Expr::Meta(text) => Some(text.clone()),
            Expr::Path {
                head,
                last,
                generics,
                turbofish,
                ..
            } => self.rewrite_path(head, *last, generics, *turbofish, shape),
            Expr::AddrOf { op, expr } | Expr::Unary { op, expr } => {
                self.rewrite_prefix(op, expr, shape)
            }
            Expr::Return(expr) => self.rewrite_prefix("return ", expr, shape),
            Expr::Call { callee, args } => {
                let callee = self.rewrite(callee, shape)?;
                self.rewrite_list(&callee, args, shape, ListKind::Call, Trailing::Vertical)
            }
            Expr::Array(items) => {
                self.rewrite_list("", items, shape, ListKind::Array, Trailing::Vertical)
            }
            Expr::Macro {
                name,
                args,
                trailing,
                text,
            } => {
                let list = if args.is_empty() {
                    Some(format!("{name}()"))
                } else {
                    self.rewrite_list(name, args, shape, ListKind::Macro, *trailing)
                };
                // A macro rustfmt cannot lay out stays as written where that fits.
                list.or_else(|| self.wrap(text.clone(), shape))
            }
            Expr::MethodCall { .. } | Expr::Field { .. } | Expr::Await(_) | Expr::Try(_) => {
                self.rewrite_chain(expr, shape)
            }
            Expr::Binary { .. } => self.rewrite_binary(expr, shape),
            Expr::Assign { lhs, rhs } => {
                let lhs = self.rewrite(lhs, shape.sub_width(2)?)?;
                self.rewrite_assign_rhs(&format!("{lhs} ="), rhs, shape)
            }
            Expr::Struct { path, fields, rest } => {
                self.rewrite_struct(path, fields, rest.as_deref(), shape)
            }
        }
    }

    fn rewrite_prefix(&self, prefix: &str, expr: &Expr, shape: Shape) -> Option<String> {
        let inner = self.rewrite(expr, shape.offset_left(prefix.len())?)?;
        Some(format!("{prefix}{inner}"))
    }

    /// A path: every segment must fit; the generic arguments of the last one break like a
    /// list.
    fn rewrite_path(
        &self,
        head: &str,
        last: usize,
        generics: &[Expr],
        turbofish: bool,
        shape: Shape,
    ) -> Option<String> {
        if width(head) > shape.width {
            return None;
        }
        if generics.is_empty() {
            return Some(head.to_owned());
        }
        let before = head.len() - last;
        let shape = shape
            .visual_indent(0)
            .shrink_left(before)?
            .offset_left(last)?;
        let args =
            self.rewrite_list("", generics, shape, ListKind::Generics, Trailing::Vertical)?;
        let sep = if turbofish { "::" } else { "" };
        Some(format!("{head}{sep}{args}"))
    }

    /// rustfmt's `overflow::Context`: `ident` followed by a bracketed list of `items`.
    fn rewrite_list(
        &self,
        ident: &str,
        items: &[Expr],
        shape: Shape,
        kind: ListKind,
        trailing: Trailing,
    ) -> Option<String> {
        let ((open, close), item_max_width) = match kind {
            ListKind::Call | ListKind::Macro => (("(", ")"), FN_CALL_WIDTH),
            ListKind::Array => (("[", "]"), ARRAY_WIDTH),
            ListKind::Generics => (("<", ">"), MAX_WIDTH),
            ListKind::Attr => (("(", ")"), ATTR_FN_LIKE_WIDTH),
        };
        let used_width = extra_offset(ident, shape);
        let one_line_width = shape.width.saturating_sub(used_width + 2);
        let one_line_shape = shape
            .offset_left(last_line_width(ident) + 1)
            .and_then(|s| s.sub_width(1))
            .unwrap_or(Shape { width: 0, ..shape });
        let nested_shape = {
            let s = shape.block().block_indent(TAB).with_max_width();
            Shape {
                width: s.width.saturating_sub(1),
                ..s
            }
        };

        let mut list: Vec<Option<String>> = items
            .iter()
            .map(|item| self.rewrite(item, nested_shape))
            .collect();
        let tactic = self.try_overflow_last_item(
            ident,
            items,
            &mut list,
            kind,
            (one_line_shape, nested_shape),
            one_line_width,
            item_max_width,
        );
        let ends_with_newline = matches!(tactic, Tactic::Vertical | Tactic::Mixed);
        let items_str = write_list(&list, tactic, nested_shape, trailing, ends_with_newline)?;

        // wrap_items
        let shape = Shape {
            width: shape.width.saturating_sub(last_line_width(ident)),
            ..shape
        };
        let extend_width = if items_str.is_empty() {
            2
        } else {
            first_line_width(&items_str) + 1
        };
        let mut result = format!("{ident}{open}");
        if tactic == Tactic::Horizontal && extend_width <= shape.width {
            result.push_str(&items_str);
        } else {
            if !items_str.is_empty() {
                result.push_str(&nested_shape.indent.newline());
                result.push_str(&items_str);
            }
            result.push_str(&shape.block().indent.newline());
        }
        result.push_str(close);
        Some(result)
    }

    #[allow(clippy::too_many_arguments)]
    fn try_overflow_last_item(
        &self,
        ident: &str,
        items: &[Expr],
        list: &mut [Option<String>],
        kind: ListKind,
        (one_line_shape, nested_shape): (Shape, Shape),
        one_line_width: usize,
        item_max_width: usize,
    ) -> Tactic {
        let Some(last) = items.last() else {
            return Tactic::Horizontal;
        };
        let n = items.len();
        let is_expr = matches!(kind, ListKind::Call | ListKind::Array | ListKind::Macro);
        let combine_arg_with_callee = n == 1 && is_expr && ident.len() < TAB;
        let can_overflow = match kind {
            ListKind::Call | ListKind::Array | ListKind::Macro => last.can_be_overflowed(n),
            ListKind::Attr => n == 1 && matches!(last, Expr::Meta(_)),
            ListKind::Generics => false,
        };
        let overflow_last = combine_arg_with_callee || can_overflow;

        let placeholder = if overflow_last {
            let old = self.force_one_line_chain.get();
            if !combine_arg_with_callee && is_expr && last.is_method_call() {
                self.force_one_line_chain.set(true);
            }
            let last_shape = if n == 1 && !(is_expr && last.is_nested_call()) {
                Some(one_line_shape)
            } else {
                let offset = list[..n - 1]
                    .iter()
                    .map(|item| 2 + item.as_deref().unwrap_or("").len())
                    .sum();
                Shape {
                    width: item_max_width.min(one_line_shape.width),
                    ..one_line_shape
                }
                .offset_left(offset)
            };
            let result = last_shape.and_then(|shape| {
                let rewrite = self.rewrite(last, shape)?;
                list[n - 1] = Some(rewrite.split('\n').next().unwrap_or("").to_owned());
                Some(rewrite)
            });
            self.force_one_line_chain.set(old);
            result
        } else {
            None
        };

        let mut tactic = limited_tactic(list, item_max_width.min(one_line_width));
        match (overflow_last, tactic, placeholder) {
            (true, Tactic::Horizontal, Some(overflowed)) if n == 1 => {
                // A nested call whose budget was cut keeps the wider layout when that is one line.
                list[n - 1] = if count_newlines(&overflowed) == 1 {
                    match self.rewrite(last, nested_shape) {
                        Some(rw) if !rw.contains('\n') => Some(rw),
                        _ => Some(overflowed),
                    }
                } else {
                    Some(overflowed)
                };
            }
            (true, Tactic::Horizontal, Some(overflowed)) => list[n - 1] = Some(overflowed),
            _ => {
                list[n - 1] = self.rewrite(last, nested_shape);
                let only = list[0].as_deref().unwrap_or("");
                if n == 1
                    && one_line_width != 0
                    && !only.contains('\n')
                    && width(only) <= one_line_width
                {
                    tactic = Tactic::Horizontal;
                } else {
                    tactic = limited_tactic(list, item_max_width.min(one_line_width));
                    if tactic == Tactic::Vertical {
                        let simple = |items: &[Expr]| match kind {
                            ListKind::Call | ListKind::Array | ListKind::Macro => {
                                items.iter().all(Expr::is_simple)
                            }
                            ListKind::Attr => false,
                            ListKind::Generics => false,
                        };
                        let format_macro = FORMAT_MACROS
                            .iter()
                            .find(|(name, _)| kind == ListKind::Macro && *name == ident);
                        if let Some(&(_, before)) = format_macro {
                            let one_line = n > before
                                && simple(&items[..before])
                                && simple(&items[before + 1..])
                                && limited_tactic(&list[..before], nested_shape.width)
                                    == Tactic::Horizontal
                                && limited_tactic(&list[before + 1..], nested_shape.width)
                                    == Tactic::Horizontal;
                            if one_line {
                                tactic = Tactic::FormatString(before);
                            }
                        } else if simple(items)
                            && list
                                .iter()
                                .all(|item| item.as_deref().unwrap_or("").len() <= SHORT_ITEM_WIDTH)
                        {
                            tactic = Tactic::Mixed;
                        }
                    }
                }
            }
        }
        tactic
    }

    /// A method chain: `root.link().link()?`, on one line when short enough, else one link per
    /// line (rustfmt's block chain formatter).
    fn rewrite_chain(&self, expr: &Expr, shape: Shape) -> Option<String> {
        let mut subexprs = vec![expr];
        loop {
            let next = match subexprs[subexprs.len() - 1] {
                Expr::MethodCall { receiver, .. } => receiver,
                Expr::Field { base, .. } | Expr::Await(base) | Expr::Try(base) => base,
                _ => break,
            };
            subexprs.push(next);
        }
        let mut links = Vec::new();
        let mut tries = 0;
        for sub in &subexprs {
            let kind = match sub {
                Expr::Try(_) => {
                    tries += 1;
                    continue;
                }
                Expr::MethodCall { method, args, .. } => LinkKind::Method(method, args),
                Expr::Field { member, .. } => LinkKind::Field(member),
                Expr::Await(_) => LinkKind::Await,
                other => LinkKind::Root(other),
            };
            links.push(Link { kind, tries });
            tries = 0;
        }
        let parent = links.pop()?;
        links.reverse();
        let children = links;
        if children.is_empty() {
            return self.rewrite_link(&parent, shape);
        }
        let child_count = children.len();

        let LinkKind::Root(parent_expr) = parent.kind else {
            return None;
        };
        let mut root = self.rewrite_link(&parent, shape)?;
        let mut root_ends_with_block = parent_expr.is_block_like(&root);
        // A root no wider than an indentation takes the following links on its line.
        let tab_width = TAB.saturating_sub(shape.offset);
        let mut rest = &children[..];
        while root.len() <= tab_width && !root.contains('\n') {
            let link_shape = shape.offset_left(root.len())?;
            match self.rewrite_link(&rest[0], link_shape) {
                Some(rewrite) => root.push_str(&rewrite),
                None => break,
            }
            root_ends_with_block = last_line_extendable(&root);
            rest = &rest[1..];
            if rest.is_empty() {
                break;
            }
        }
        if rest.is_empty() {
            return self.wrap(root, shape);
        }

        let child_shape = if root_ends_with_block {
            shape.block_indent(0)
        } else {
            shape.block_indent(TAB)
        }
        .with_max_width();
        let mut rewrites = vec![root];
        for link in &rest[..rest.len() - 1] {
            rewrites.push(self.rewrite_link(link, child_shape)?);
        }

        let last = &rest[rest.len() - 1];
        let extendable = last_line_extendable(&rewrites[0]);
        let almost_total = if extendable {
            last_line_width(&rewrites[0])
        } else {
            rewrites.iter().map(|r| width(r)).sum()
        } + last.tries;
        let one_line_budget = if child_count == 1 {
            shape.width
        } else {
            shape.width.min(CHAIN_WIDTH)
        }
        .saturating_sub(almost_total);
        let all_in_one_line = rewrites.iter().all(|r| !r.contains('\n')) && one_line_budget > 0;
        let last_shape = if all_in_one_line {
            shape.sub_width(last.tries)?
        } else if extendable {
            child_shape.sub_width(last.tries)?
        } else {
            child_shape.sub_width(shape.rhs_overhead() + last.tries)?
        };

        let mut fits_single_line = false;
        let mut last_rewrite = None;
        if (all_in_one_line || extendable)
            && let Some(one_line_shape) = last_shape.offset_left(almost_total)
            && let Some(rw) = self.rewrite_link(last, one_line_shape)
        {
            let line_count = rw.lines().count();
            let could_fit_single_line = first_line_width(&rw) <= one_line_budget;
            if could_fit_single_line && line_count >= 5 {
                last_rewrite = Some(rw);
                fits_single_line = all_in_one_line;
            } else {
                let next_shape = child_shape.sub_width(shape.rhs_overhead() + last.tries)?;
                match self.rewrite_link(last, next_shape) {
                    Some(new_rw) if !could_fit_single_line => last_rewrite = Some(new_rw),
                    Some(new_rw) if new_rw.lines().count() >= line_count => {
                        last_rewrite = Some(rw);
                        fits_single_line = could_fit_single_line && all_in_one_line;
                    }
                    Some(new_rw) => last_rewrite = Some(new_rw),
                    None => {
                        last_rewrite = Some(rw);
                        fits_single_line = could_fit_single_line && all_in_one_line;
                    }
                }
            }
        }
        let last_rewrite = match last_rewrite {
            Some(rw) => rw,
            None => self.rewrite_link(last, last_shape)?,
        };
        rewrites.push(last_rewrite);

        let connector = if fits_single_line {
            String::new()
        } else if self.force_one_line_chain.get() {
            return None;
        } else {
            child_shape.indent.newline()
        };
        self.wrap(rewrites.join(&connector), shape)
    }

    fn rewrite_link(&self, link: &Link<'_>, shape: Shape) -> Option<String> {
        let shape = shape.sub_width(link.tries)?;
        let rewrite = match link.kind {
            LinkKind::Root(expr) => self.rewrite(expr, shape)?,
            LinkKind::Method(method, args) => self.rewrite_list(
                &format!(".{method}"),
                args,
                shape,
                ListKind::Call,
                Trailing::Vertical,
            )?,
            LinkKind::Field(member) => format!(".{member}"),
            LinkKind::Await => ".await".to_owned(),
        };
        Some(format!("{rewrite}{}", "?".repeat(link.tries)))
    }

    /// `a op b op c` for one operator (rustfmt's `rewrite_all_pairs`): on one line, else each
    /// further operand on a line of its own starting with the operator.
    fn rewrite_binary(&self, expr: &Expr, shape: Shape) -> Option<String> {
        let Expr::Binary { op: top, .. } = expr else {
            return None;
        };
        let mut operands = Vec::new();
        let mut separators: Vec<&str> = Vec::new();
        collect_operands(expr, top, &mut operands, &mut separators);
        let nested_shape = shape
            .block_indent(TAB)
            .with_max_width()
            .sub_width(shape.rhs_overhead());
        let rewrites: Vec<Option<String>> = operands
            .iter()
            .enumerate()
            .map(|(i, operand)| {
                if i == 0 {
                    self.rewrite(operand, shape)
                } else {
                    let sep = separators[i - 1].len();
                    self.rewrite(operand, nested_shape?.offset_left(sep + 1)?)
                }
            })
            .collect();
        self.rewrite_pairs_one_line(&operands, &rewrites, &separators, shape)
            .or_else(|| {
                let nested_shape = nested_shape?;
                let mut result = rewrites[0].clone()?;
                for ((operand, rewrite), sep) in
                    operands[1..].iter().zip(&rewrites[1..]).zip(&separators)
                {
                    let offset = if result.contains('\n') {
                        0
                    } else {
                        shape.used_width()
                    };
                    if last_line_width(&result) + offset <= nested_shape.used_width()
                        && let Some(line_shape) =
                            shape.offset_left(sep.len() + 2 + trimmed_last_line_width(&result))
                        && let Some(rw) = self.rewrite(operand, line_shape)
                    {
                        result.push_str(&format!(" {sep} {rw}"));
                        continue;
                    }
                    result.push_str(&nested_shape.indent.newline());
                    result.push_str(sep);
                    result.push(' ');
                    result.push_str(rewrite.as_deref()?);
                }
                Some(result)
            })
    }

    fn rewrite_pairs_one_line(
        &self,
        operands: &[&Expr],
        rewrites: &[Option<String>],
        separators: &[&str],
        shape: Shape,
    ) -> Option<String> {
        let mut result = String::new();
        for (rewrite, sep) in rewrites.iter().zip(separators) {
            let rewrite = rewrite.as_deref()?;
            if rewrite.contains('\n') || result.len() > shape.width {
                return None;
            }
            result.push_str(&format!("{rewrite} {sep} "));
        }
        let prefix_len = result.len();
        let last_shape = shape.block().offset_left(last_line_width(&result))?;
        let last = self.rewrite(operands.last()?, last_shape)?;
        result.push_str(&last);
        if first_line_width(&result) > shape.width {
            return None;
        }
        // A multi-line result is kept only when its last operand opens a block, or starts
        // unbroken after a short enough prefix.
        if result.contains('\n')
            && !last.starts_with('{')
            && (last.starts_with('(') || prefix_len > TAB)
        {
            return None;
        }
        self.wrap(result, shape)
    }

    /// A struct literal: `Name { a, b }` when its fields fit in `struct_lit_width`, else one
    /// field per line.
    fn rewrite_struct(
        &self,
        path: &str,
        fields: &[(String, Option<Expr>)],
        rest: Option<&Expr>,
        shape: Shape,
    ) -> Option<String> {
        let path_shape = shape.sub_width(2)?;
        if width(path) > path_shape.width {
            return None;
        }
        if fields.is_empty() && rest.is_none() {
            return Some(format!("{path} {{}}"));
        }
        let v_shape = {
            let s = shape.block_indent(TAB);
            Shape {
                width: MAX_WIDTH.saturating_sub(s.indent.width()),
                ..s
            }
        };
        let h_width = shape
            .width
            .checked_sub(path.len() + 3 + 2)
            .map(|w| w.min(STRUCT_LIT_WIDTH));
        let one_line_width = h_width.unwrap_or(0);
        let field_shape = v_shape.sub_width(1)?;
        let mut items: Vec<Option<String>> = fields
            .iter()
            .map(|(name, expr)| self.rewrite_field(name, expr.as_ref(), field_shape))
            .collect();
        if let Some(rest) = rest {
            items.push(
                self.rewrite(rest, v_shape.offset_left(2)?)
                    .map(|r| format!("..{r}")),
            );
        }
        let tactic = match h_width {
            Some(h) if limited_tactic(&items, h) == Tactic::Horizontal => Tactic::Horizontal,
            _ => Tactic::Vertical,
        };
        let list_shape = match (tactic, h_width) {
            (Tactic::Horizontal, Some(h)) => Shape {
                width: h,
                indent: shape.indent,
                offset: shape.indent.align,
            },
            _ => v_shape,
        };
        let trailing = if rest.is_some() {
            Trailing::Never
        } else {
            Trailing::Vertical
        };
        let fields_str = write_list(&items, tactic, list_shape, trailing, false)?;
        let body = if fields_str.contains('\n') || fields_str.len() > one_line_width {
            format!(
                "{}{fields_str}{}",
                v_shape.indent.newline(),
                shape.indent.newline()
            )
        } else {
            format!(" {fields_str} ")
        };
        Some(format!("{path} {{{body}}}"))
    }

    /// `name: value` in a struct literal; the value moves to the next line when it does not
    /// fit after the name.
    fn rewrite_field(&self, name: &str, expr: Option<&Expr>, shape: Shape) -> Option<String> {
        let Some(expr) = expr else {
            return Some(name.to_owned());
        };
        let expr_shape = shape.offset_left(name.len() + 2)?;
        match self.rewrite(expr, expr_shape) {
            Some(e) if e == name && !matches!(expr, Expr::Lit { .. }) => Some(name.to_owned()),
            Some(e) => Some(format!("{name}: {e}")),
            None => {
                let indent = Indent {
                    block: shape.indent.block + TAB,
                    align: shape.indent.align,
                };
                let e = self.rewrite(expr, Shape::at(indent))?;
                Some(format!("{name}:\n{}{e}", indent.spaces()))
            }
        }
    }

    /// The right side of an assignment, `let` or `const`: after `lhs` when it fits there on
    /// one line, else where rustfmt's `choose_rhs` prefers it.
    fn rewrite_assign_rhs(&self, lhs: &str, expr: &Expr, shape: Shape) -> Option<String> {
        let last_line = last_line_width(lhs).saturating_sub(if lhs.contains('\n') {
            shape.indent.width()
        } else {
            0
        });
        let shape = shape.offset_left(last_line + 1).unwrap_or(Shape {
            width: 0,
            offset: shape.offset + last_line + 1,
            ..shape
        });
        let orig = self.rewrite(expr, shape);
        let rhs = self.choose_rhs(expr, shape, orig)?;
        Some(format!("{lhs}{rhs}"))
    }

    fn choose_rhs(&self, expr: &Expr, shape: Shape, orig: Option<String>) -> Option<String> {
        match &orig {
            Some(s) if s.is_empty() => return Some(String::new()),
            Some(s) if !s.contains('\n') && width(s) <= shape.width => {
                return Some(format!(" {s}"));
            }
            _ => {}
        }
        let next_indent = Indent {
            block: shape.indent.block + TAB,
            align: shape.indent.align,
        };
        let new_shape = Shape::at(next_indent).sub_width(shape.rhs_overhead())?;
        let new = self.rewrite(expr, new_shape);
        let newline = next_indent.newline();
        match (orig, new) {
            (Some(orig), Some(new)) if !self.fits(&new, new_shape) => Some(format!(" {orig}")),
            (Some(orig), Some(new)) if prefer_next_line(&orig, &new) => {
                Some(format!("{newline}{new}"))
            }
            (None, Some(new)) => Some(format!("{newline}{new}")),
            (None, None) => None,
            (Some(orig), _) => Some(format!(" {orig}")),
        }
    }
}

/// Whether the right side of an assignment reads better on the next line (rustfmt's
/// `prefer_next_line`).
fn prefer_next_line(orig: &str, next: &str) -> bool {
    !next.contains('\n')
        || count_newlines(orig) > count_newlines(next) + 1
        || ['(', '{', '[']
            .iter()
            .any(|&c| first_line_ends_with(orig, c) && !first_line_ends_with(next, c))
}

fn collect_operands<'a>(
    expr: &'a Expr,
    top: &str,
    operands: &mut Vec<&'a Expr>,
    separators: &mut Vec<&'a str>,
) {
    match expr {
        Expr::Binary { lhs, op, rhs } if op == top => {
            collect_operands(lhs, top, operands, separators);
            separators.push(op);
            operands.push(rhs);
        }
        other => operands.push(other),
    }
}

/// rustfmt's `definitive_tactic` for `LimitedHorizontalVertical` and `HorizontalVertical`:
/// horizontal when every item is one line and together they fit in `limit`.
fn limited_tactic(items: &[Option<String>], limit: usize) -> Tactic {
    let total: usize = items
        .iter()
        .map(|item| width(item.as_deref().unwrap_or("")))
        .sum::<usize>()
        + 2 * items.len().saturating_sub(1);
    let multiline = items
        .iter()
        .any(|item| item.as_deref().is_some_and(|s| s.contains('\n')));
    if total <= limit && !multiline {
        Tactic::Horizontal
    } else {
        Tactic::Vertical
    }
}

/// rustfmt's `write_list` for comma-separated items without comments.
fn write_list(
    items: &[Option<String>],
    tactic: Tactic,
    shape: Shape,
    trailing: Trailing,
    ends_with_newline: bool,
) -> Option<String> {
    let mut trailing_separator = match trailing {
        Trailing::Always => true,
        Trailing::Vertical => tactic == Tactic::Vertical,
        Trailing::Never => false,
    };
    let indent = shape.indent.spaces();
    let mut result = String::new();
    let mut line_len = 0;
    for (i, item) in items.iter().enumerate() {
        let item = item.as_deref()?;
        let first = i == 0;
        let last = i + 1 == items.len();
        let mut separate = !last || trailing_separator;
        let sep_len = usize::from(separate);
        if item.is_empty() {
            continue;
        }
        match tactic {
            Tactic::Horizontal if !first => result.push(' '),
            Tactic::FormatString(before) => {
                if i == 0 {
                } else if i < before {
                    result.push(' ');
                } else if i <= before + 1 {
                    result.push('\n');
                    result.push_str(&indent);
                } else {
                    result.push(' ');
                }
            }
            Tactic::Vertical if !first && !result.is_empty() => {
                result.push('\n');
                result.push_str(&indent);
            }
            Tactic::Mixed => {
                let total = width(item) + sep_len;
                if line_len > 0 && line_len + 1 + total > shape.width {
                    result.push('\n');
                    result.push_str(&indent);
                    line_len = 0;
                    if ends_with_newline {
                        trailing_separator = true;
                    }
                } else if line_len > 0 {
                    result.push(' ');
                    line_len += 1;
                }
                if last && ends_with_newline {
                    separate = trailing != Trailing::Never;
                }
                line_len += total;
            }
            _ => {}
        }
        result.push_str(item);
        if separate {
            result.push(',');
        }
    }
    Some(result)
}

/// A statement as parsed, reduced to what its layout depends on.
enum Stmt {
    /// `let pat = init;`, with its `else` block's statements; `const X: T = init;`.
    Let {
        lhs: String,
        pat: Option<String>,
        ty: Option<Expr>,
        init: Option<Expr>,
        diverge: Option<Vec<Stmt>>,
    },
    /// An expression, with its `;` or as a block's value.
    Expr { expr: Expr, semi: bool },
}

impl Fmt {
    /// A statement whose block is indented by `shape`; `None` when rustfmt could not lay it
    /// out either.
    fn rewrite_stmt(&self, stmt: &Stmt, shape: Shape) -> Option<String> {
        match stmt {
            Stmt::Expr { expr, semi } => {
                let shape = if *semi { shape.sub_width(1)? } else { shape };
                let text = self.rewrite(expr, shape)?;
                Some(if *semi { format!("{text};") } else { text })
            }
            Stmt::Let {
                lhs,
                pat,
                ty,
                init,
                diverge,
            } => {
                if let Some(pat) = pat {
                    let pat_shape = shape.offset_left(4)?.sub_width(1)?;
                    if width(pat) > pat_shape.width {
                        return None;
                    }
                }
                let mut lhs = lhs.clone();
                if let Some(ty) = ty {
                    // 2 = ` =`
                    let ty_shape = shape.offset_left(width(&lhs) + 2)?.sub_width(2)?;
                    lhs = format!("{lhs}: {}", self.rewrite(ty, ty_shape)?);
                }
                let Some(init) = init else {
                    return Some(format!("{lhs};"));
                };
                lhs.push_str(" =");
                let init_shape = shape.sub_width(1)?;
                let mut result = self.rewrite_assign_rhs(&lhs, init, init_shape)?;
                if let Some(diverge) = diverge {
                    let same_line = if !result.contains('\n') {
                        init_shape.width.saturating_sub(result.len()) >= 7
                    } else {
                        let indent = init_shape.indent.spaces();
                        result.ends_with([')', ']', '}'])
                            && result
                                .lines()
                                .last()
                                .and_then(|line| line.strip_prefix(indent.as_str()))
                                .is_some_and(|rest| !rest.starts_with(char::is_whitespace))
                    };
                    if same_line {
                        result.push_str(" else {");
                    } else {
                        result.push_str(&shape.indent.newline());
                        result.push_str("else {");
                    }
                    // Only blocks of statements that end in `;` are laid out here, and rustfmt
                    // never puts those on the `else` line.
                    let inner = Shape::indented(shape.indent.block + TAB);
                    for stmt in diverge {
                        result.push_str(&inner.indent.newline());
                        result.push_str(&self.rewrite_stmt(stmt, inner)?);
                    }
                    result.push_str(&shape.indent.newline());
                    result.push('}');
                }
                result.push(';');
                Some(result)
            }
        }
    }
}

/// Parses Rust text into the reduced trees above, keeping each leaf's text as written.
struct Parser<'a> {
    src: &'a str,
    /// Macros without a trailing comma get one when vertical, as calls do.
    macros_as_calls: bool,
}

impl Parser<'_> {
    fn text(&self, node: &impl Spanned) -> String {
        let range = node.span().byte_range();
        self.src.get(range).unwrap_or_default().trim().to_owned()
    }

    fn verbatim(&self, node: &impl Spanned) -> Expr {
        Expr::Verbatim(self.text(node))
    }

    fn exprs<'e>(&self, exprs: impl IntoIterator<Item = &'e syn::Expr>) -> Vec<Expr> {
        exprs.into_iter().map(|e| self.expr(e)).collect()
    }

    fn expr(&self, expr: &syn::Expr) -> Expr {
        match expr {
            syn::Expr::Lit(lit) => Expr::Lit {
                text: self.text(lit),
                string: matches!(lit.lit, syn::Lit::Str(_)),
            },
            syn::Expr::Path(path) => self.path(path),
            syn::Expr::Reference(r) => Expr::AddrOf {
                op: if r.mutability.is_some() { "&mut " } else { "&" }.to_owned(),
                expr: Box::new(self.expr(&r.expr)),
            },
            syn::Expr::Unary(u) => Expr::Unary {
                op: match u.op {
                    syn::UnOp::Not(_) => "!",
                    syn::UnOp::Neg(_) => "-",
                    _ => "*",
                }
                .to_owned(),
                expr: Box::new(self.expr(&u.expr)),
            },
            syn::Expr::Return(r) => match &r.expr {
                Some(e) => Expr::Return(Box::new(self.expr(e))),
                None => self.verbatim(r),
            },
            syn::Expr::Call(call) => Expr::Call {
                callee: Box::new(self.expr(&call.func)),
                args: self.exprs(&call.args),
            },
            syn::Expr::Array(array) => Expr::Array(self.exprs(&array.elems)),
            syn::Expr::Macro(m) => self.mac(&m.mac),
            syn::Expr::MethodCall(call) => {
                let mut method = call.method.to_string();
                if let Some(turbofish) = &call.turbofish {
                    let args = self.text(turbofish);
                    if !args.starts_with("::") {
                        method.push_str("::");
                    }
                    method.push_str(&args);
                }
                Expr::MethodCall {
                    receiver: Box::new(self.expr(&call.receiver)),
                    method,
                    args: self.exprs(&call.args),
                }
            }
            syn::Expr::Field(field) => Expr::Field {
                base: Box::new(self.expr(&field.base)),
                member: self.text(&field.member),
            },
            syn::Expr::Await(a) => Expr::Await(Box::new(self.expr(&a.base))),
            syn::Expr::Try(t) => Expr::Try(Box::new(self.expr(&t.expr))),
            syn::Expr::Binary(b) => Expr::Binary {
                lhs: Box::new(self.expr(&b.left)),
                op: self.text(&b.op),
                rhs: Box::new(self.expr(&b.right)),
            },
            syn::Expr::Assign(a) => Expr::Assign {
                lhs: Box::new(self.expr(&a.left)),
                rhs: Box::new(self.expr(&a.right)),
            },
            syn::Expr::Struct(s) if s.qself.is_none() => Expr::Struct {
                path: self.text(&s.path),
                fields: s
                    .fields
                    .iter()
                    .map(|f| {
                        let name = self.text(&f.member);
                        let value = f.colon_token.as_ref().map(|_| self.expr(&f.expr));
                        (name, value)
                    })
                    .collect(),
                rest: s.rest.as_ref().map(|r| Box::new(self.expr(r))),
            },
            other => self.verbatim(other),
        }
    }

    fn path(&self, path: &syn::ExprPath) -> Expr {
        if path.qself.is_some() {
            return self.verbatim(path);
        }
        self.path_of(&path.path, true)
    }

    /// A type: a path type breaks in its generic arguments; any other is kept as written.
    fn ty(&self, ty: &syn::Type) -> Expr {
        match ty {
            syn::Type::Path(path) if path.qself.is_none() => self.path_of(&path.path, false),
            other => self.verbatim(other),
        }
    }

    fn path_of(&self, path: &syn::Path, turbofish: bool) -> Expr {
        let segments = &path.segments;
        let plain = path.leading_colon.is_none()
            && segments.iter().rev().skip(1).all(|s| s.arguments.is_none());
        let Some(last) = segments.last().filter(|_| plain) else {
            return self.verbatim(path);
        };
        let generics = match &last.arguments {
            syn::PathArguments::None => Vec::new(),
            syn::PathArguments::AngleBracketed(args) => args
                .args
                .iter()
                .map(|a| match a {
                    syn::GenericArgument::Type(ty) => self.ty(ty),
                    other => self.verbatim(other),
                })
                .collect(),
            syn::PathArguments::Parenthesized(_) => return self.verbatim(path),
        };
        let start = path.span().byte_range().start;
        let end = last.ident.span().byte_range().end;
        let head = self.src.get(start..end).unwrap_or_default().to_owned();
        Expr::Path {
            last: last.ident.to_string().len(),
            head,
            segments: segments.len(),
            generics,
            turbofish,
        }
    }

    fn mac(&self, mac: &syn::Macro) -> Expr {
        let text = self.text(mac);
        if !matches!(mac.delimiter, syn::MacroDelimiter::Paren(_)) {
            return Expr::Verbatim(text);
        }
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        let Ok(args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            return Expr::Verbatim(text);
        };
        Expr::Macro {
            name: format!("{}!", self.text(&mac.path)),
            trailing: if args.trailing_punct() {
                Trailing::Always
            } else if self.macros_as_calls {
                Trailing::Vertical
            } else {
                Trailing::Never
            },
            args: self.exprs(&args),
            text,
        }
    }

    fn stmt(&self, stmt: &syn::Stmt) -> Result<Stmt, String> {
        Ok(match stmt {
            syn::Stmt::Local(local) if !local.attrs.is_empty() => {
                return Err(format!(
                    "cannot lay out `{}`: it has attributes",
                    self.text(local)
                ));
            }
            syn::Stmt::Local(local) => {
                let (pat, ty) = match &local.pat {
                    syn::Pat::Type(typed) => (self.text(&typed.pat), Some(self.ty(&typed.ty))),
                    pat => (self.text(pat), None),
                };
                let lhs = format!("let {pat}");
                let diverge = match local.init.as_ref().and_then(|i| i.diverge.as_ref()) {
                    Some((_, block)) => match &**block {
                        syn::Expr::Block(block) => Some(
                            block
                                .block
                                .stmts
                                .iter()
                                .map(|s| self.stmt(s))
                                .collect::<Result<_, _>>()?,
                        ),
                        other => return Err(format!("unexpected `else` in {}", self.text(other))),
                    },
                    None => None,
                };
                Stmt::Let {
                    lhs,
                    pat: Some(pat),
                    ty,
                    init: local.init.as_ref().map(|i| self.expr(&i.expr)),
                    diverge,
                }
            }
            syn::Stmt::Item(syn::Item::Const(item)) => {
                let vis = match &item.vis {
                    syn::Visibility::Inherited => String::new(),
                    vis => format!("{} ", self.text(vis)),
                };
                Stmt::Let {
                    lhs: format!("{vis}const {}: {}", item.ident, self.text(&item.ty)),
                    pat: None,
                    ty: None,
                    init: Some(self.expr(&item.expr)),
                    diverge: None,
                }
            }
            syn::Stmt::Expr(expr, semi) => Stmt::Expr {
                expr: self.expr(expr),
                semi: semi.is_some(),
            },
            syn::Stmt::Macro(m) => Stmt::Expr {
                expr: self.mac(&m.mac),
                semi: m.semi_token.is_some(),
            },
            other => return Err(format!("cannot lay out `{}`", self.text(other))),
        })
    }
}

/// Runs a rewrite as rustfmt would, and where rustfmt would give up only because a line after
/// the first is too long, runs it again allowing that (see [`Fmt::lenient`]).
fn lay_out(rewrite: impl Fn(&Fmt) -> Option<String>) -> Option<String> {
    rewrite(&Fmt::default()).or_else(|| {
        rewrite(&Fmt {
            lenient: true,
            ..Fmt::default()
        })
    })
}

fn parse_expr(src: &str) -> Result<Expr, String> {
    let expr: syn::Expr =
        syn::parse_str(src).map_err(|e| format!("`{src}` is not a Rust expression: {e}"))?;
    Ok(Parser {
        src,
        macros_as_calls: false,
    }
    .expr(&expr))
}

/// Lays out one statement or block-ending expression, written on one line in `src`, in a block
/// indented by `indent`; the result carries the indentation of its first line.
pub(super) fn statement(indent: usize, src: &str) -> Result<String, String> {
    statement_with(indent, src, false)
}

/// [`statement`], where `macros_as_calls` gives a macro written without a trailing comma the one
/// a function call gets when its arguments break, as `rs_call` has always written `assert!`.
/// rustfmt keeps a macro's trailing comma as it finds it, so both forms are its output.
pub(super) fn statement_with(
    indent: usize,
    src: &str,
    macros_as_calls: bool,
) -> Result<String, String> {
    let src = src.trim();
    let block = format!("{{{src}}}");
    let parsed: syn::Block =
        syn::parse_str(&block).map_err(|e| format!("`{src}` is not a Rust statement: {e}"))?;
    let [stmt] = parsed.stmts.as_slice() else {
        return Err(format!("`{src}` is not one Rust statement"));
    };
    let stmt = Parser {
        src: &block,
        macros_as_calls,
    }
    .stmt(stmt)?;
    let pad = " ".repeat(indent);
    let text = lay_out(|fmt| fmt.rewrite_stmt(&stmt, Shape::indented(indent)))
        // What rustfmt cannot lay out at all it leaves as written.
        .unwrap_or_else(|| src.to_owned());
    Ok(format!("{pad}{text}"))
}

/// A call whose callee is written as is, such as a link of a chain the template prints line by
/// line (`.route`): `{callee}({args}){trail}` in a block indented by `indent`.
pub(super) fn call_with(
    indent: usize,
    callee: &str,
    args: &[String],
    trail: &str,
) -> Result<String, String> {
    let sources: Vec<&str> = args.iter().map(|a| a.trim()).collect();
    let args = sources
        .iter()
        .map(|a| parse_expr(a))
        .collect::<Result<Vec<_>, _>>()?;
    let shape = Shape::indented(indent);
    let text = lay_out(|fmt| {
        fmt.rewrite_list(
            callee,
            &args,
            shape.sub_width(width(trail))?,
            ListKind::Call,
            Trailing::Vertical,
        )
    })
    .unwrap_or_else(|| format!("{callee}({})", sources.join(", ")));
    let pad = " ".repeat(indent);
    Ok(format!("{pad}{text}{trail}"))
}

/// The head of an `if` whose condition is `cond`: `if cond {`, with the brace on a line of its
/// own when the condition breaks.
pub(super) fn if_head(indent: usize, cond: &str) -> Result<String, String> {
    let expr = parse_expr(cond)?;
    let shape = Shape::indented(indent);
    let pad = " ".repeat(indent);
    let fresh = Shape {
        width: MAX_WIDTH.saturating_sub(shape.used_width()),
        ..shape
    };
    let Some(cond_text) = lay_out(|fmt| fmt.rewrite(&expr, fresh.offset_left(3)?)) else {
        return Ok(format!("{pad}if {} {{", cond.trim()));
    };
    let one_line_budget = MAX_WIDTH.saturating_sub(fresh.used_width() + 3 + 2);
    let offsetted = {
        let last = cond_text.rsplit('\n').next().unwrap_or("");
        last.len() - last.trim_start().len() > shape.used_width()
    };
    let newline_brace = (cond_text.contains('\n') || cond_text.len() > one_line_budget)
        && (!last_line_extendable(&cond_text) || offsetted);
    let brace = if newline_brace {
        format!("{}{{", shape.indent.newline())
    } else {
        " {".to_owned()
    };
    Ok(format!("{pad}if {cond_text}{brace}"))
}

/// One field of a struct literal written out line by line: `name: value,`.
pub(super) fn field_init(indent: usize, name: &str, value: &str) -> Result<String, String> {
    let expr = parse_expr(value)?;
    let pad = " ".repeat(indent);
    let text =
        lay_out(|fmt| fmt.rewrite_field(name, Some(&expr), Shape::indented(indent).sub_width(1)?))
            .unwrap_or_else(|| format!("{name}: {}", value.trim()));
    Ok(format!("{pad}{text},"))
}

/// One field of a struct declaration: `{prefix} {ty},` where `prefix` is `pub name:`; the type
/// moves to the next line when it does not fit after the name.
pub(super) fn field_decl(indent: usize, prefix: &str, ty: &str) -> String {
    let pad = " ".repeat(indent);
    let one_line = format!("{prefix} {ty}");
    let ty = Expr::Verbatim(ty.to_owned());
    let text = lay_out(|fmt| {
        let shape = Shape::indented(indent).sub_width(1)?;
        match shape
            .offset_left(width(prefix) + 1)
            .and_then(|s| fmt.rewrite(&ty, s))
        {
            Some(_) => Some(one_line.clone()),
            None => fmt.rewrite_assign_rhs(prefix, &ty, shape),
        }
    })
    .unwrap_or(one_line);
    format!("{pad}{text},")
}

/// An attribute such as `#[template(path = "…")]`, its list broken like a call's when long.
pub(super) fn attribute(indent: usize, src: &str) -> Result<String, String> {
    let src = src.trim();
    let pad = " ".repeat(indent);
    let attrs = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, src)
        .map_err(|e| format!("`{src}` is not an attribute: {e}"))?;
    let [attr] = attrs.as_slice() else {
        return Err(format!("`{src}` is not one attribute"));
    };
    let parser = Parser {
        src,
        macros_as_calls: false,
    };
    let syn::Meta::List(list) = &attr.meta else {
        return Ok(format!("{pad}{src}"));
    };
    let items = syn::parse::Parser::parse2(
        Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
        list.tokens.clone(),
    )
    .map_err(|e| format!("`{src}` has an unexpected list: {e}"))?;
    let trailing = if items.trailing_punct() {
        Trailing::Always
    } else {
        Trailing::Never
    };
    let items: Vec<Expr> = items
        .iter()
        .map(|meta| match meta {
            syn::Meta::NameValue(_) => Expr::Meta(parser.text(meta)),
            other => parser.verbatim(other),
        })
        .collect();
    let name = parser.text(&list.path);
    let text = lay_out(|fmt| {
        fmt.rewrite_list(
            &name,
            &items,
            Shape::indented(indent).offset_left(2)?.sub_width(1)?,
            ListKind::Attr,
            trailing,
        )
    });
    Ok(match text {
        Some(text) => format!("{pad}#[{text}]"),
        None => format!("{pad}{src}"),
    })
}

/// A `use` item with one list at its end, `use a::b::{C, d};`, broken as rustfmt breaks
/// imports: the list on lines of its own, filled as far as they go.
pub(super) fn use_item(indent: usize, src: &str) -> Result<String, String> {
    let src = src.trim();
    let pad = " ".repeat(indent);
    let item: syn::ItemUse =
        syn::parse_str(src).map_err(|e| format!("`{src}` is not a `use` item: {e}"))?;
    let parser = Parser {
        src,
        macros_as_calls: false,
    };
    let vis = match &item.vis {
        syn::Visibility::Inherited => String::new(),
        vis => format!("{} ", parser.text(vis)),
    };
    if item.leading_colon.is_some() || !item.attrs.is_empty() {
        return Ok(format!("{pad}{src}"));
    }
    let mut prefix = String::new();
    let mut tree = &item.tree;
    let group = loop {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push_str(&format!("{}::", path.ident));
                tree = &path.tree;
            }
            syn::UseTree::Group(group) => break group,
            _ => return Ok(format!("{pad}{src}")),
        }
    };
    let names: Vec<String> = group.items.iter().map(|t| parser.text(t)).collect();
    if names.iter().any(|n| n.contains('{')) {
        return Ok(format!("{pad}{src}"));
    }
    let one_line = format!("{pad}{vis}use {prefix}{{{}}};", names.join(", "));
    // The shape of the tree: after `use ` and before `;`, then past the path and the brace.
    let Some(list_shape) = Shape::indented(indent)
        .offset_left(width(&vis) + 4)
        .and_then(|s| s.sub_width(1))
        .and_then(|s| s.offset_left(width(&prefix) + 1))
        .and_then(|s| s.sub_width(1))
    else {
        return Ok(one_line);
    };
    let nested = {
        let s = list_shape.block_indent(TAB).with_max_width();
        Shape {
            width: s.width.saturating_sub(1),
            ..s
        }
    };
    let items: Vec<Option<String>> = names.iter().map(|n| Some(n.clone())).collect();
    let remaining = list_shape.width.saturating_sub(2);
    let tactic = match limited_tactic(&items, remaining) {
        Tactic::Horizontal => Tactic::Horizontal,
        _ => Tactic::Mixed,
    };
    let ends_with_newline = tactic != Tactic::Horizontal;
    let trailing = if ends_with_newline {
        Trailing::Vertical
    } else {
        Trailing::Never
    };
    let Some(list) = write_list(&items, tactic, nested, trailing, ends_with_newline) else {
        return Ok(one_line);
    };
    if list.contains('\n') || list.len() > remaining {
        Ok(format!(
            "{pad}{vis}use {prefix}{{\n{}{list}\n{pad}}};",
            nested.indent.spaces()
        ))
    } else {
        Ok(format!("{pad}{vis}use {prefix}{{{list}}};"))
    }
}

/// One segment of a `use` path, ordered as rustfmt orders imports in the 2024 style edition.
#[derive(Debug, PartialEq, Eq)]
enum UseSegment {
    SelfValue,
    Super,
    Crate,
    Ident(String),
    Glob,
    List(Vec<Vec<UseSegment>>),
}

impl UseSegment {
    fn rank(&self) -> u8 {
        match self {
            UseSegment::SelfValue => 0,
            UseSegment::Super => 1,
            UseSegment::Crate => 2,
            UseSegment::Ident(_) => 3,
            UseSegment::Glob => 4,
            UseSegment::List(_) => 5,
        }
    }
}

impl Ord for UseSegment {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (UseSegment::Ident(a), UseSegment::Ident(b)) => {
                version_sort(a.trim_start_matches("r#"), b.trim_start_matches("r#"))
            }
            (UseSegment::List(a), UseSegment::List(b)) => a.iter().cmp(b.iter()),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for UseSegment {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn use_segments(tree: &syn::UseTree, out: &mut Vec<UseSegment>) {
    let ident = |name: String| match name.as_str() {
        "self" => UseSegment::SelfValue,
        "super" => UseSegment::Super,
        "crate" => UseSegment::Crate,
        _ => UseSegment::Ident(name),
    };
    match tree {
        syn::UseTree::Path(path) => {
            out.push(ident(path.ident.to_string()));
            use_segments(&path.tree, out);
        }
        syn::UseTree::Name(name) => out.push(ident(name.ident.to_string())),
        syn::UseTree::Rename(rename) => out.push(ident(rename.ident.to_string())),
        syn::UseTree::Glob(_) => out.push(UseSegment::Glob),
        syn::UseTree::Group(group) => {
            let mut items: Vec<Vec<UseSegment>> = group
                .items
                .iter()
                .map(|tree| {
                    let mut segments = Vec::new();
                    use_segments(tree, &mut segments);
                    segments
                })
                .collect();
            items.sort_by(|a, b| compare_use_paths(a, b));
            out.push(UseSegment::List(items));
        }
    }
}

fn compare_use_paths(a: &[UseSegment], b: &[UseSegment]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.cmp(y))
        .find(|order| order.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// `use` items in the order rustfmt gives them within a group.
pub(super) fn sort_uses(items: &[String]) -> Result<Vec<String>, String> {
    let mut keyed = items
        .iter()
        .map(|src| {
            let item: syn::ItemUse =
                syn::parse_str(src).map_err(|e| format!("`{src}` is not a `use` item: {e}"))?;
            let mut segments = Vec::new();
            use_segments(&item.tree, &mut segments);
            Ok((segments, src.clone()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    keyed.sort_by(|(a, _), (b, _)| compare_use_paths(a, b));
    Ok(keyed.into_iter().map(|(_, src)| src).collect())
}

/// One piece of an identifier in rustfmt's version sort.
#[derive(Debug, PartialEq, Eq)]
enum Chunk<'a> {
    Underscore,
    Text(&'a str),
    Number {
        value: u128,
        zeros: usize,
        text: &'a str,
    },
}

fn chunks(ident: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut rest = ident;
    while let Some(c) = rest.chars().next() {
        if c == '_' {
            out.push(Chunk::Underscore);
            rest = &rest[1..];
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let text = &rest[..end];
            out.push(Chunk::Number {
                value: text.parse().unwrap_or(u128::MAX),
                zeros: text.chars().take_while(|c| *c == '0').count(),
                text,
            });
            rest = &rest[end..];
        } else {
            let end = rest
                .find(|c: char| c == '_' || c.is_ascii_digit())
                .unwrap_or(rest.len());
            out.push(Chunk::Text(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// rustfmt's `version_sort`: underscores first, runs of digits by their value, the rest by
/// their bytes, and among equal values the one with more leading zeros first.
fn version_sort(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (chunks(a), chunks(b));
    let mut zeros = Ordering::Equal;
    for (x, y) in a.iter().zip(&b) {
        let order = match (x, y) {
            (Chunk::Underscore, Chunk::Underscore) => Ordering::Equal,
            (Chunk::Underscore, _) => return Ordering::Less,
            (_, Chunk::Underscore) => return Ordering::Greater,
            (
                Chunk::Number {
                    value: va,
                    zeros: za,
                    ..
                },
                Chunk::Number {
                    value: vb,
                    zeros: zb,
                    ..
                },
            ) => {
                if va == vb && zeros == Ordering::Equal {
                    zeros = zb.cmp(za);
                }
                va.cmp(vb)
            }
            (
                Chunk::Text(x) | Chunk::Number { text: x, .. },
                Chunk::Text(y) | Chunk::Number { text: y, .. },
            ) => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    a.len().cmp(&b.len()).then(zeros)
}
