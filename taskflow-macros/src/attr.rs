//! The options given in `#[task(...)]` and `#[dag(...)]`, checked as they are parsed.

use proc_macro2::{Delimiter, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, Lit, LitStr, Path, Token};

use crate::schedule::ScheduleAttr;
use crate::sensor::SensorAttr;
use crate::settings::{self, Settings};

const TASK_OPTIONS: &str = "task_id, trigger_rule, retries, retry_delay, retry_exponential_backoff, \
     max_retry_delay, execution_timeout, on_execute_callback, on_success_callback, on_failure_callback, \
     on_retry_callback, on_skipped_callback, priority_weight, weight_rule, pool, pool_slots, \
     max_active_tis_per_dag, setup, teardown, branch, short_circuit, multiple_outputs, \
     ignore_downstream_trigger_rules, crate";
const SENSOR_OPTIONS: &str = "poke_interval, timeout, mode, soft_fail, exponential_backoff, max_wait, \
     task_id, trigger_rule, retries, retry_delay, retry_exponential_backoff, max_retry_delay, \
     execution_timeout, on_execute_callback, on_success_callback, on_failure_callback, \
     on_retry_callback, on_skipped_callback, priority_weight, weight_rule, pool, pool_slots, \
     max_active_tis_per_dag, crate";
const DAG_OPTIONS: &str = "dag_id, default_args, on_success_callback, on_failure_callback, \
     max_active_tasks, max_active_runs, schedule, timezone, start_date, end_date, catchup, \
     dagrun_timeout, crate";

/// The options of `#[task(...)]`.
#[derive(Default)]
pub(crate) struct TaskAttr {
    pub(crate) task_id: Option<LitStr>,
    pub(crate) settings: Settings,
    /// `branch`: the value names the downstream tasks to follow.
    pub(crate) branch: Option<Path>,
    /// `short_circuit`: a false value skips the downstream tasks.
    pub(crate) short_circuit: Option<Path>,
    pub(crate) ignore_downstream_trigger_rules: Option<syn::LitBool>,
    /// `multiple_outputs`: a tuple value becomes a tuple of handles.
    pub(crate) multiple_outputs: Option<Path>,
    pub(crate) krate: Option<Path>,
    /// Set for `#[sensor]`: its own options.
    pub(crate) sensor: Option<SensorAttr>,
}

/// The options of `#[dag(...)]`.
#[derive(Default)]
pub(crate) struct DagAttr {
    pub(crate) dag_id: Option<LitStr>,
    /// The `default_args(...)` settings, if given.
    pub(crate) default_args: Option<Settings>,
    /// Called with the report when the run succeeds.
    pub(crate) on_success_callback: Option<Path>,
    /// Called with the report when the run fails.
    pub(crate) on_failure_callback: Option<Path>,
    /// `max_active_tasks = N`.
    pub(crate) max_active_tasks: Option<syn::LitInt>,
    /// `max_active_runs = N`.
    pub(crate) max_active_runs: Option<syn::LitInt>,
    /// `schedule`, `timezone`, `start_date`, `end_date`, `catchup`, `dagrun_timeout`.
    pub(crate) schedule: ScheduleAttr,
    pub(crate) krate: Option<Path>,
}

pub(crate) fn parse_task(tokens: TokenStream, sensor: bool) -> syn::Result<TaskAttr> {
    let mut attr = TaskAttr {
        sensor: sensor.then(SensorAttr::default),
        ..TaskAttr::default()
    };
    let (what, names) = if sensor {
        ("sensor", SENSOR_OPTIONS)
    } else {
        ("task", TASK_OPTIONS)
    };
    syn::meta::parser(|meta| {
        if let Some(sensor) = &mut attr.sensor {
            if sensor.parse(&meta)? {
                return Ok(());
            }
            for only_tasks in ["branch", "short_circuit", "multiple_outputs"] {
                if meta.path.is_ident(only_tasks) {
                    return Err(
                        meta.error(format_args!("a sensor cannot be a `{only_tasks}` task"))
                    );
                }
            }
        }
        if meta.path.is_ident("task_id") {
            let id = id_value(&meta, "task_id")?;
            set_once(&meta, &mut attr.task_id, id)
        } else if attr.settings.parse(&meta)? {
            Ok(())
        } else if meta.path.is_ident("branch") {
            set_once(&meta, &mut attr.branch, meta.path.clone())
        } else if meta.path.is_ident("short_circuit") {
            set_once(&meta, &mut attr.short_circuit, meta.path.clone())
        } else if meta.path.is_ident("multiple_outputs") {
            set_once(&meta, &mut attr.multiple_outputs, meta.path.clone())
        } else if meta.path.is_ident("ignore_downstream_trigger_rules") {
            let ignore: syn::LitBool = value(&meta, |input| input.parse())?;
            set_once(&meta, &mut attr.ignore_downstream_trigger_rules, ignore)
        } else if meta.path.is_ident("crate") {
            let path = crate_path(&meta)?;
            set_once(&meta, &mut attr.krate, path)
        } else {
            Err(unknown(&meta, what, names))
        }
    })
    .parse2(tokens)?;
    if let (Some(_), Some(short_circuit)) = (&attr.branch, &attr.short_circuit) {
        return Err(syn::Error::new_spanned(
            short_circuit,
            "a task is either a `branch` or a `short_circuit`, not both",
        ));
    }
    if let (None, Some(ignore)) = (&attr.short_circuit, &attr.ignore_downstream_trigger_rules) {
        return Err(syn::Error::new_spanned(
            ignore,
            "`ignore_downstream_trigger_rules` goes with `short_circuit`",
        ));
    }
    Ok(attr)
}

pub(crate) fn parse_dag(tokens: TokenStream) -> syn::Result<DagAttr> {
    let mut attr = DagAttr::default();
    syn::meta::parser(|meta| {
        if meta.path.is_ident("dag_id") {
            let id = id_value(&meta, "dag_id")?;
            set_once(&meta, &mut attr.dag_id, id)
        } else if meta.path.is_ident("default_args") {
            let settings = default_args(&meta)?;
            set_once(&meta, &mut attr.default_args, settings)
        } else if meta.path.is_ident("on_success_callback") {
            let function: Path = value(&meta, |input| input.parse())?;
            set_once(&meta, &mut attr.on_success_callback, function)
        } else if meta.path.is_ident("on_failure_callback") {
            let function: Path = value(&meta, |input| input.parse())?;
            set_once(&meta, &mut attr.on_failure_callback, function)
        } else if meta.path.is_ident("max_active_tasks") {
            let limit = settings::positive(&meta, "max_active_tasks")?;
            set_once(&meta, &mut attr.max_active_tasks, limit)
        } else if meta.path.is_ident("max_active_runs") {
            let limit = settings::positive(&meta, "max_active_runs")?;
            set_once(&meta, &mut attr.max_active_runs, limit)
        } else if attr.schedule.parse(&meta)? {
            Ok(())
        } else if meta.path.is_ident("crate") {
            let path = crate_path(&meta)?;
            set_once(&meta, &mut attr.krate, path)
        } else {
            Err(unknown(&meta, "dag", DAG_OPTIONS))
        }
    })
    .parse2(tokens)?;
    attr.schedule.check()?;
    Ok(attr)
}

/// The settings of `default_args(...)`, in `#[dag]` and `#[task_group]`.
pub(crate) fn default_args(meta: &ParseNestedMeta<'_>) -> syn::Result<Settings> {
    let mut settings = Settings::default();
    meta.parse_nested_meta(|inner| {
        if settings.parse(&inner)? {
            Ok(())
        } else {
            Err(unknown(&inner, "default_args", settings::NAMES))
        }
    })?;
    Ok(settings)
}

pub(crate) fn unknown(meta: &ParseNestedMeta<'_>, what: &str, expected: &str) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map_or_else(|| "this path".to_owned(), |i| format!("`{i}`"));
    meta.error(format_args!(
        "unknown {what} option {name}; expected one of: {expected}"
    ))
}

pub(crate) fn set_once<T>(
    meta: &ParseNestedMeta<'_>,
    slot: &mut Option<T>,
    value: T,
) -> syn::Result<()> {
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
    checked_id(meta, key, "my_id", true, "letters, digits, `_`, `-` or `.`")
}

/// A `key = "id"` value of 1 to 250 letters, digits, `_`, `-` (and `.` if `dots`); `rules`
/// says which for the error.
pub(crate) fn checked_id(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    example: &str,
    dots: bool,
    rules: &str,
) -> syn::Result<LitStr> {
    let lit = string_value(meta, key, example)?;
    let id = lit.value();
    let valid = !id.is_empty()
        && id.len() <= 250
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-') || (dots && c == '.'));
    if valid {
        Ok(lit)
    } else {
        Err(syn::Error::new(
            lit.span(),
            format_args!("`{key}` must be 1 to 250 {rules}, got {id:?}"),
        ))
    }
}

pub(crate) fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    string_value(meta, "crate", "::taskflow")?.parse()
}

/// The `= "..."` after `key`; any other value is an error at the value, naming the key.
pub(crate) fn string_value(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    example: &str,
) -> syn::Result<LitStr> {
    let usage = format!("`{key} = \"{example}\"`");
    if !meta.input.peek(Token![=]) {
        return Err(syn::Error::new_spanned(
            &meta.path,
            format_args!("option `{key}` needs a string value: {usage}"),
        ));
    }
    match value(meta, |input| input.parse::<Expr>())? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            format_args!("option `{key}` takes a string literal: {usage}"),
        )),
    }
}

/// The value after `key =`, parsed with `parse`, looking through the invisible groups that
/// `macro_rules!` puts around forwarded fragments (`$x:literal`, `$x:expr`), so that
/// `#[task(pool = $pool)]` in a macro reads like `#[task(pool = "etl")]`.
pub(crate) fn value<T>(
    meta: &ParseNestedMeta<'_>,
    parse: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    through_groups(meta.value()?, parse)
}

fn through_groups<T>(
    input: ParseStream<'_>,
    parse: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<T> {
    let whole_group = input
        .cursor()
        .group(Delimiter::None)
        .is_some_and(|(_, _, after)| {
            after.eof() || after.punct().is_some_and(|(p, _)| p.as_char() == ',')
        });
    if !whole_group {
        return parse(input);
    }
    let stream = input.step(|cursor| match cursor.group(Delimiter::None) {
        Some((inner, _, after)) => Ok((inner.token_stream(), after)),
        None => Err(cursor.error("expected a value")),
    })?;
    let inner = |stream: ParseStream<'_>| {
        let parsed = through_groups(stream, parse)?;
        if !stream.is_empty() {
            return Err(stream.error("unexpected tokens after the option's value"));
        }
        Ok(parsed)
    };
    inner.parse2(stream)
}
