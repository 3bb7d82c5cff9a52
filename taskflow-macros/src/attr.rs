//! The options given in `#[task(...)]` and `#[dag(...)]`, checked as they are parsed.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

/// Airflow's trigger rule names, with the runtime's variant of each.
const TRIGGER_RULES: &[(&str, &str)] = &[
    ("all_success", "AllSuccess"),
    ("all_failed", "AllFailed"),
    ("all_done", "AllDone"),
    ("all_done_setup_success", "AllDoneSetupSuccess"),
    ("all_done_min_one_success", "AllDoneMinOneSuccess"),
    ("all_skipped", "AllSkipped"),
    ("one_failed", "OneFailed"),
    ("one_success", "OneSuccess"),
    ("one_done", "OneDone"),
    ("none_failed", "NoneFailed"),
    ("none_failed_min_one_success", "NoneFailedMinOneSuccess"),
    ("none_skipped", "NoneSkipped"),
    ("always", "Always"),
];

const TASK_OPTIONS: &str = "task_id, trigger_rule, crate";
const DAG_OPTIONS: &str = "dag_id, crate";

/// The options of `#[task(...)]`.
#[derive(Default)]
pub(crate) struct TaskAttr {
    pub(crate) task_id: Option<LitStr>,
    /// The variant of `TriggerRule`, spanned at the user's string.
    pub(crate) trigger_rule: Option<Ident>,
    pub(crate) krate: Option<Path>,
}

/// The options of `#[dag(...)]`.
#[derive(Default)]
pub(crate) struct DagAttr {
    pub(crate) dag_id: Option<LitStr>,
    pub(crate) krate: Option<Path>,
}

pub(crate) fn parse_task(tokens: TokenStream) -> syn::Result<TaskAttr> {
    let mut attr = TaskAttr::default();
    syn::meta::parser(|meta| {
        if meta.path.is_ident("task_id") {
            let id = id_value(&meta, "task_id")?;
            set_once(&meta, &mut attr.task_id, id)
        } else if meta.path.is_ident("trigger_rule") {
            let rule = trigger_rule(&meta)?;
            set_once(&meta, &mut attr.trigger_rule, rule)
        } else if meta.path.is_ident("crate") {
            let path = crate_path(&meta)?;
            set_once(&meta, &mut attr.krate, path)
        } else {
            Err(unknown(&meta, "task", TASK_OPTIONS))
        }
    })
    .parse2(tokens)?;
    Ok(attr)
}

pub(crate) fn parse_dag(tokens: TokenStream) -> syn::Result<DagAttr> {
    let mut attr = DagAttr::default();
    syn::meta::parser(|meta| {
        if meta.path.is_ident("dag_id") {
            let id = id_value(&meta, "dag_id")?;
            set_once(&meta, &mut attr.dag_id, id)
        } else if meta.path.is_ident("crate") {
            let path = crate_path(&meta)?;
            set_once(&meta, &mut attr.krate, path)
        } else {
            Err(unknown(&meta, "dag", DAG_OPTIONS))
        }
    })
    .parse2(tokens)?;
    Ok(attr)
}

fn unknown(meta: &ParseNestedMeta<'_>, what: &str, expected: &str) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map_or_else(|| "this path".to_owned(), |i| format!("`{i}`"));
    meta.error(format_args!(
        "unknown {what} option {name}; expected one of: {expected}"
    ))
}

fn set_once<T>(meta: &ParseNestedMeta<'_>, slot: &mut Option<T>, value: T) -> syn::Result<()> {
    if slot.is_some() {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(meta.error(format_args!("duplicate option `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

/// A `key = "id"` value, checked against Airflow's id rules.
fn id_value(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
    let lit = string_value(meta, key, "my_id")?;
    let id = lit.value();
    let valid = !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(lit)
    } else {
        Err(syn::Error::new(
            lit.span(),
            format_args!(
                "`{key}` must be 1 to 250 letters, digits, `_`, `-` or `.`, got {:?}",
                id
            ),
        ))
    }
}

fn trigger_rule(meta: &ParseNestedMeta<'_>) -> syn::Result<Ident> {
    let lit = string_value(meta, "trigger_rule", "all_done")?;
    let name = lit.value();
    match TRIGGER_RULES.iter().find(|(airflow, _)| *airflow == name) {
        Some((_, variant)) => Ok(Ident::new(variant, lit.span())),
        None => {
            let names: Vec<&str> = TRIGGER_RULES.iter().map(|(airflow, _)| *airflow).collect();
            Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "unknown trigger rule {name:?}; expected one of: {}",
                    names.join(", ")
                ),
            ))
        }
    }
}

fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    string_value(meta, "crate", "::taskflow")?.parse()
}

/// The `= "..."` after `key`; any other value is an error at the value, naming the key.
fn string_value(meta: &ParseNestedMeta<'_>, key: &str, example: &str) -> syn::Result<LitStr> {
    let usage = format!("`{key} = \"{example}\"`");
    if !meta.input.peek(Token![=]) {
        return Err(syn::Error::new_spanned(
            &meta.path,
            format_args!("option `{key}` needs a string value: {usage}"),
        ));
    }
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            format_args!("option `{key}` takes a string literal: {usage}"),
        )),
    }
}
