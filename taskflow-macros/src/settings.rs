//! Task settings that `#[task(...)]` takes and `#[dag(default_args(...))]` sets for all
//! tasks, checked at compile time and turned into a `const` `TaskOptions`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Ident, LitBool, LitInt, LitStr};

use crate::attr::{set_once, string_value, value};
use crate::duration::parse_millis;

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

/// The names of the settings, for "expected one of" messages.
pub(crate) const NAMES: &str = "trigger_rule, retries, retry_delay, retry_exponential_backoff, max_retry_delay, \
     execution_timeout, on_execute_callback, on_success_callback, on_failure_callback, on_retry_callback, \
     on_skipped_callback, priority_weight, weight_rule, pool, pool_slots, max_active_tis_per_dag";

/// Airflow's weight rule names, with the runtime's variant of each.
const WEIGHT_RULES: &[(&str, &str)] = &[
    ("downstream", "Downstream"),
    ("upstream", "Upstream"),
    ("absolute", "Absolute"),
];

/// The task callbacks, each set with `name = path::to::function`.
const CALLBACKS: [&str; 5] = [
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
];

#[derive(Default)]
pub(crate) struct Settings {
    trigger_rule: Option<Ident>,
    retries: Option<LitInt>,
    retry_delay: Option<(u64, Span)>,
    retry_exponential_backoff: Option<LitBool>,
    max_retry_delay: Option<(u64, Span)>,
    execution_timeout: Option<(u64, Span)>,
    /// `setup` / `teardown` flags.
    setup: Option<Ident>,
    teardown: Option<Ident>,
    /// Per entry of `CALLBACKS`: the function given.
    callbacks: [Option<syn::Path>; 5],
    priority_weight: Option<TokenStream>,
    weight_rule: Option<Ident>,
    pool: Option<LitStr>,
    pool_slots: Option<LitInt>,
    max_active_tis_per_dag: Option<LitInt>,
}

impl Settings {
    /// Parses `meta` if it is a setting; `Ok(false)` if it is some other option.
    pub(crate) fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
        let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
            return Ok(false);
        };
        match key.as_str() {
            "trigger_rule" => {
                let rule = named_variant(meta, "trigger_rule", "all_done", TRIGGER_RULES)?;
                set_once(meta, &mut self.trigger_rule, rule)?;
            }
            "retries" => {
                let retries: LitInt = value(meta, |input| input.parse())?;
                retries.base10_parse::<u32>()?;
                set_once(meta, &mut self.retries, retries)?;
            }
            "retry_exponential_backoff" => {
                set_once(meta, &mut self.retry_exponential_backoff, flag(meta)?)?;
            }
            "priority_weight" => {
                let value = priority_weight(meta)?;
                set_once(meta, &mut self.priority_weight, value)?;
            }
            "weight_rule" => {
                let rule = named_variant(meta, "weight_rule", "absolute", WEIGHT_RULES)?;
                set_once(meta, &mut self.weight_rule, rule)?;
            }
            "pool" => {
                let pool = string_value(meta, "pool", "my_pool")?;
                if pool.value().is_empty() {
                    return Err(syn::Error::new(pool.span(), "a pool name cannot be empty"));
                }
                set_once(meta, &mut self.pool, pool)?;
            }
            "pool_slots" => {
                let slots = positive(meta, "pool_slots")?;
                set_once(meta, &mut self.pool_slots, slots)?;
            }
            "max_active_tis_per_dag" => {
                let limit = positive(meta, "max_active_tis_per_dag")?;
                set_once(meta, &mut self.max_active_tis_per_dag, limit)?;
            }
            "setup" | "teardown" => {
                let flag = meta
                    .path
                    .get_ident()
                    .cloned()
                    .expect("matched an identifier");
                let (slot, other) = if key == "setup" {
                    (&mut self.setup, &self.teardown)
                } else {
                    (&mut self.teardown, &self.setup)
                };
                if other.is_some() {
                    return Err(meta.error("a task is either a `setup` or a `teardown`, not both"));
                }
                set_once(meta, slot, flag)?;
            }
            "retry_delay" => set_once(
                meta,
                &mut self.retry_delay,
                duration(meta, "retry_delay", "30s", false)?,
            )?,
            "max_retry_delay" => set_once(
                meta,
                &mut self.max_retry_delay,
                duration(meta, "max_retry_delay", "10m", false)?,
            )?,
            "execution_timeout" => set_once(
                meta,
                &mut self.execution_timeout,
                duration(meta, "execution_timeout", "1h", true)?,
            )?,
            other => match CALLBACKS.iter().position(|name| *name == other) {
                Some(index) => {
                    let function: syn::Path = value(meta, |input| input.parse())?;
                    set_once(meta, &mut self.callbacks[index], function)?;
                }
                None => return Ok(false),
            },
        }
        Ok(true)
    }

    /// A `const` expression of type `TaskOptions` with these settings.
    pub(crate) fn options(&self, krate: &TokenStream) -> TokenStream {
        let mut options = quote!(#krate::TaskOptions::EMPTY);
        let millis = |(value, _): &(u64, Span)| quote!(::core::time::Duration::from_millis(#value));
        if let Some(rule) = &self.trigger_rule {
            options = quote!(#options.with_const_trigger_rule(#krate::TriggerRule::#rule));
        }
        if let Some(retries) = &self.retries {
            options = quote!(#options.with_const_retries(#retries));
        }
        if let Some(delay) = &self.retry_delay {
            let delay = millis(delay);
            options = quote!(#options.with_const_retry_delay(#delay));
        }
        if let Some(backoff) = &self.retry_exponential_backoff {
            options = quote!(#options.with_const_retry_exponential_backoff(#backoff));
        }
        if let Some(max) = &self.max_retry_delay {
            let max = millis(max);
            options = quote!(#options.with_const_max_retry_delay(#max));
        }
        if let Some(timeout) = &self.execution_timeout {
            let timeout = millis(timeout);
            options = quote!(#options.with_const_execution_timeout(#timeout));
        }
        if let Some(weight) = &self.priority_weight {
            options = quote!(#options.priority_weight(#weight));
        }
        if let Some(rule) = &self.weight_rule {
            options = quote!(#options.with_const_weight_rule(#krate::WeightRule::#rule));
        }
        if let Some(pool) = &self.pool {
            options = quote!(#options.with_const_pool(#pool));
        }
        if let Some(slots) = &self.pool_slots {
            options = quote!(#options.pool_slots(#slots));
        }
        if let Some(limit) = &self.max_active_tis_per_dag {
            options = quote!(#options.max_active_tis_per_dag(#limit));
        }
        if let Some(setup) = &self.setup {
            options = quote!(#options.#setup());
        }
        if let Some(teardown) = &self.teardown {
            options = quote!(#options.#teardown());
        }
        for (name, function) in CALLBACKS.iter().zip(&self.callbacks) {
            if let Some(function) = function {
                let setter = Ident::new(&format!("with_const_{name}"), function.span());
                options = quote!(#options.#setter(#function));
            }
        }
        options
    }
}

/// `name` alone (true) or `name = true/false`.
pub(crate) fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<LitBool> {
    if meta.input.peek(syn::Token![=]) {
        return value(meta, |input| input.parse());
    }
    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, Ident::span);
    Ok(LitBool::new(true, span))
}

/// A duration string in milliseconds, with its span; with `positive`, zero is an error.
pub(crate) fn duration(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    example: &str,
    positive: bool,
) -> syn::Result<(u64, Span)> {
    let lit: LitStr = string_value(meta, key, example)?;
    match parse_millis(&lit.value()) {
        Ok(0) if positive => Err(syn::Error::new(
            lit.span(),
            format_args!("`{key}` must be longer than zero"),
        )),
        Ok(millis) => Ok((millis, lit.span())),
        Err(reason) => Err(syn::Error::new(
            lit.span(),
            format_args!(
                "invalid duration for `{key}`: {reason} (for example \"500ms\", \"30s\", \"10m\", \"2h\", \"1h30m\")"
            ),
        )),
    }
}

/// `priority_weight = 5` or `= -5`: an `i32`, as tokens for the generated code.
fn priority_weight(meta: &ParseNestedMeta<'_>) -> syn::Result<TokenStream> {
    value(meta, priority_weight_value)
}

fn priority_weight_value(input: syn::parse::ParseStream<'_>) -> syn::Result<TokenStream> {
    let minus: Option<syn::Token![-]> = input.parse()?;
    let value: LitInt = input.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            "`priority_weight` takes an integer, for example `priority_weight = 10`",
        )
    })?;
    let text = format!(
        "{}{}",
        if minus.is_some() { "-" } else { "" },
        value.base10_digits()
    );
    text.parse::<i32>().map_err(|_| {
        syn::Error::new(
            value.span(),
            "`priority_weight` must fit in an i32, as Airflow's weights do",
        )
    })?;
    Ok(quote!(#minus #value))
}

/// A whole number of at least 1.
pub(crate) fn positive(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitInt> {
    let number: LitInt = value(meta, |input| input.parse())?;
    match number.base10_parse::<u32>() {
        Ok(0) | Err(_) => Err(syn::Error::new(
            number.span(),
            format_args!("`{key}` takes a whole number of at least 1"),
        )),
        Ok(_) => Ok(number),
    }
}

/// A string naming one of `names`, as the runtime variant's identifier.
fn named_variant(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    example: &str,
    names: &[(&str, &str)],
) -> syn::Result<Ident> {
    let lit = string_value(meta, key, example)?;
    let name = lit.value();
    match names.iter().find(|(airflow, _)| *airflow == name) {
        Some((_, variant)) => Ok(Ident::new(variant, lit.span())),
        None => {
            let valid: Vec<&str> = names.iter().map(|(airflow, _)| *airflow).collect();
            Err(syn::Error::new(
                lit.span(),
                format_args!(
                    "unknown {} {name:?}; expected one of: {}",
                    key.replace('_', " "),
                    valid.join(", ")
                ),
            ))
        }
    }
}
